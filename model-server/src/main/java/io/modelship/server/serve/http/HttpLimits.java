package io.modelship.server.serve.http;

import java.time.Duration;

/**
 * What one connection or request may cost the server: the largest body, how long a connection may go without a
 * complete request head (idle keep-alive, or a head trickling in), how long a body may take to arrive once its head
 * is in, and how long a keep-alive connection lives before an answer tells its client to reconnect (so new pods
 * get their share). Zero turns a limit off.
 */
public record HttpLimits(long maxBodyBytes, Duration idleTimeout, Duration bodyTimeout, Duration maxConnectionAge) {}
