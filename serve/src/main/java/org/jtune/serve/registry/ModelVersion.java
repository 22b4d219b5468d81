package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One registered version of a model name, as the registry holds it.
 *
 * @param kind           adapter (PEFT folder applied to {@code baseModel}) or model (a whole Hugging Face folder)
 * @param artifactSha256 the artifact's manifest hash (see {@link ArtifactManifest})
 * @param baseModel      the base model folder an adapter applies to (null for a full model that needs none)
 * @param baseSha256     the base model folder's manifest hash at registration, or null when it was not found
 * @param parentVersion  the version this one was derived from or meant to replace, or null
 * @param lineage        everything recorded at registration (see {@link Registry#register})
 */
public record ModelVersion(String name, int version, Stage stage, String kind, String artifactSha256, String baseModel,
                           String baseSha256, Integer parentVersion, String runDir, ObjectNode lineage, String createdAt,
                           String createdBy) {
    /** name:version, as the request log's model_version column names it. */
    public String label() {
        return name + ":" + version;
    }
}
