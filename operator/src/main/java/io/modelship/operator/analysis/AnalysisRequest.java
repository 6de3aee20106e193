package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.ModelDeployment;
import java.time.Instant;
import java.util.List;

/**
 * Everything one evaluation needs: the ModelDeployment (namespace, name, model name, spec.rollout.analysis, which
 * may be null for defaults), and the live pods of both revisions as the informer sees them.
 */
public record AnalysisRequest(
    ModelDeployment mdep,
    String canaryRevision,
    List<Pod> canaryPods,
    String stableRevision,
    List<Pod> stablePods,
    Instant now) {}
