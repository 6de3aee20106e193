package io.modelship.operator.revision;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.spec.SchedulingSpec;
import io.modelship.operator.api.spec.ServerSpec;
import io.modelship.operator.api.spec.ModelSpec;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One deployable version of a ModelDeployment: the artifact source plus everything that shapes its pods.
 * The name is a hash of exactly that, so re-reconciling the same spec always yields the same revision, a
 * replica-count change yields none, and any change to the model or the pod yields a new one.
 */
public record Revision(String hash, RevisionTemplate template) {

  /** Hex characters of the SHA-256 kept in the name: 40 bits, plenty for the few revisions of one model. */
  static final int HASH_LENGTH = 10;

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .configure(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY, true)
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .build();

  /** What a revision is made of. Replicas are deliberately absent: scaling is not a new revision. */
  public record RevisionTemplate(
      ModelSpec model,
      ResourcesSpec resources,
      SchedulingSpec scheduling,
      ServerSpec server,
      String image) {}

  public static Revision of(ModelDeployment mdep, String defaultImage) {
    ModelDeploymentSpec spec = mdep.getSpec();
    String image =
        spec.getServer() != null && spec.getServer().getImage() != null
            ? spec.getServer().getImage()
            : defaultImage;
    var template =
        new RevisionTemplate(
            spec.getModel(), spec.getResources(), spec.getScheduling(), spec.getServer(), image);
    return new Revision(hashOf(template), template);
  }

  /**
   * What must be equal for one revision to be rolled out inside the pods of another (in place): everything that
   * shapes the pods, and the Secret the pods fetch with. The model's source and digest are left out: they are
   * what an in-place rollout changes.
   */
  public String inPlaceKey() {
    ModelSpec model = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
        .convertValue(template.model(), ModelSpec.class);
    String credentials = credentialsSecret(model);
    model.setSource(null);
    model.setSha256(null);
    var shape = new RevisionTemplate(model, template.resources(), template.scheduling(), template.server(),
        template.image());
    return hashOf(java.util.Map.of("pods", shape, "credentialsSecret", credentials == null ? "" : credentials));
  }

  /**
   * The version label the model server gives this revision's model: the registry version when the source names
   * one (MLflow, pinned), else the revision itself (docs/pod-contract.md, MODELSHIP_DEFAULT_MODEL_VERSION).
   */
  public String servedVersion() {
    var mlflow = template.model().getSource() == null ? null : template.model().getSource().getMlflow();
    return mlflow != null && mlflow.getVersion() != null ? mlflow.getVersion() : hash;
  }

  private static String credentialsSecret(ModelSpec model) {
    var source = model.getSource();
    if (source == null) {
      return null;
    }
    return source.getS3() != null ? source.getS3().getCredentialsSecret()
        : source.getMlflow() != null ? source.getMlflow().getCredentialsSecret() : null;
  }

  /** Name of the objects owned by this revision: {@code <modeldeployment>-<hash>}. */
  public String objectName(ModelDeployment mdep) {
    return objectName(mdep.getMetadata().getName(), hash);
  }

  public static String objectName(String modelDeploymentName, String revisionHash) {
    return modelDeploymentName + "-" + revisionHash;
  }

  static String hashOf(Object value) {
    return canonicalHash(value).substring(0, HASH_LENGTH);
  }

  /** SHA-256 of the canonical JSON of any object: the same value always gives the same text. */
  public static String canonicalHash(Object value) {
    try {
      return sha256Hex(CANONICAL.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("object is not serializable", e);
    }
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
