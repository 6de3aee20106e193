package io.modelship.server.fetch;

import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * The last line of defence between secrets and anything a person or the operator reads: every message that leaves
 * a fetch (log line, termination message, result JSON) passes through {@link #redact}. Messages are built by us
 * and should never hold a secret in the first place; this catches the one we did not think of.
 */
final class Redactor {

  private static final String MASK = "***";
  /** Query parameters that sign or authorise a URL (S3/GCS/Azure presigned URLs, tokens in links). */
  private static final Pattern SIGNED_QUERY =
      Pattern.compile(
          "(?i)([?&](?:X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId|X-Goog-[A-Za-z-]+|sig|sv|se|token|access_token"
              + "|api_key|apikey|key|password)=)[^&\\s\"']*");
  private static final Pattern USER_INFO = Pattern.compile("(?i)(\\b[a-z][a-z0-9+.-]*://)[^/@\\s\"']+@");

  private final List<String> secrets = new CopyOnWriteArrayList<>();

  /** Remembers a value that must never be shown; short values are ignored, masking them would shred messages. */
  void addSecret(String value) {
    if (value != null && value.length() >= 4 && !secrets.contains(value)) {
      secrets.add(value);
      // Longest first, so a secret that contains another is masked whole.
      secrets.sort(Comparator.comparingInt(String::length).reversed());
    }
  }

  String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : secrets) {
      out = out.replace(secret, MASK);
    }
    out = USER_INFO.matcher(out).replaceAll("$1" + MASK + "@");
    return SIGNED_QUERY.matcher(out).replaceAll("$1" + MASK);
  }

  /**
   * A URI as it may be shown: no user info, query string or fragment (presigned URLs carry their signature in the
   * query). Done on the string, not with {@link java.net.URI}, which loses S3 bucket names that are not host
   * names.
   */
  static String displayUri(String uri) {
    String out = stripQuery(uri);
    int fragment = out.indexOf('#');
    if (fragment >= 0) {
      out = out.substring(0, fragment);
    }
    int authority = out.indexOf("://");
    if (authority >= 0) {
      int pathStart = out.indexOf('/', authority + 3);
      int authorityEnd = pathStart < 0 ? out.length() : pathStart;
      int at = out.lastIndexOf('@', authorityEnd - 1);
      if (at > authority) {
        out = out.substring(0, authority + 3) + out.substring(at + 1);
      }
    }
    return out;
  }

  private static String stripQuery(String uri) {
    int query = uri.indexOf('?');
    return query < 0 ? uri : uri.substring(0, query);
  }
}
