package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.modelship.operator.resources.Applier;
import java.util.Optional;
import java.util.Set;

/**
 * The API server's own word on an object we are about to create: a server-side dry run of a new revision's
 * Deployment catches what our validation cannot know (admission webhooks, policies, a field the server parses
 * differently) before a rollout starts, instead of as a failed apply on every pass. And the same judgement for a
 * real write that was refused: which failures are the spec's (report them, do not retry in a storm) and which are
 * the API server's momentary trouble (retry).
 */
final class AdmissionCheck {
  /** Statuses that say the object itself is unacceptable; 500 too, which is what a failed conversion gives. */
  private static final Set<Integer> REFUSALS = Set.of(400, 403, 404, 422, 500);

  private AdmissionCheck() {}

  /** Why the API server would refuse {@code desired}, or empty when it accepts it (or cannot say right now). */
  static Optional<String> refusal(KubernetesClient client, HasMetadata desired) {
    try {
      client.resource(desired).dryRun().fieldManager(Applier.FIELD_MANAGER).forceConflicts().serverSideApply();
      return Optional.empty();
    } catch (KubernetesClientException e) {
      return describe(e);
    }
  }

  /** The API server's reason, when the failure is a refusal of the object; empty for trouble worth retrying. */
  static Optional<String> describe(KubernetesClientException e) {
    if (!REFUSALS.contains(e.getCode()) || isTransient(e)) {
      return Optional.empty();
    }
    String reason = e.getStatus() != null && e.getStatus().getMessage() != null
        ? e.getStatus().getMessage()
        : String.valueOf(e.getMessage());
    String firstLine = reason.lines().findFirst().orElse("").strip();
    if (firstLine.length() > 600) {
      firstLine = firstLine.substring(0, 600) + "…";
    }
    return Optional.of("the API server refuses what this spec asks for (HTTP " + e.getCode() + "): " + firstLine
        + (e.getCode() == 403 ? " (the operator's RBAC lacks a permission: check the chart's ClusterRole)" : ""));
  }

  /** A 500 that says the server is in trouble rather than the object: etcd timeouts and the like. */
  private static boolean isTransient(KubernetesClientException e) {
    if (e.getCode() != 500) {
      return false;
    }
    String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
    return message.contains("etcdserver") || message.contains("timeout") || message.contains("try again")
        || message.contains("too many requests") || message.contains("connection refused");
  }
}
