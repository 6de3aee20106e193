package io.modelship.operator.api.status;

/** Where a ModelDeployment is in its life; exactly one handler decides what happens next in each. */
public enum Phase {
  /** No revision serves yet: pods are being scheduled, the artifact fetched, the model warmed up. */
  Pending,
  /** A new revision is coming up while the previous one keeps serving. */
  Progressing,
  /** A rollout holds at its current step because the user asked. */
  Paused,
  /** One revision serves, and it is the one the spec asks for. */
  Stable,
  /** Every step passed: the canary grows to full size and becomes the stable revision. */
  Promoting,
  /** Traffic is going back to the stable revision after the new one failed. */
  RollingBack,
  /** A revision serves, but not the one the spec asks for: see the conditions for why. */
  Degraded,
  /** Nothing serves and nothing will until the spec or the cluster changes: see the conditions for why. */
  Failed
}
