package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The differences between two versions' lineage: every leaf value under a dotted key
 * ({@code recipe.learning_rate}, {@code eval.metrics.accuracy}, {@code datasets.0.sha256}) that is
 * not the same in both, plus stage and parent. Per-file manifests are compared through the artifact
 * and base hashes only.
 */
public final class VersionDiff {
    /** One differing key; a side that lacks it is null. */
    public record Change(String key, JsonNode a, JsonNode b) {}

    private static final Set<String> SKIP = Set.of("artifact.files", "base_model.files", "data_check.issues", "run_dir");

    private VersionDiff() {}

    public static List<Change> of(ModelVersion a, ModelVersion b) {
        Map<String, JsonNode> fa = new LinkedHashMap<>(), fb = new LinkedHashMap<>();
        flatten("", a.lineage(), fa);
        flatten("", b.lineage(), fb);
        List<Change> out = new ArrayList<>();
        if (a.stage() != b.stage()) {
            out.add(new Change("stage", com.fasterxml.jackson.databind.node.TextNode.valueOf(a.stage().id()),
                    com.fasterxml.jackson.databind.node.TextNode.valueOf(b.stage().id())));
        }
        for (var e : fa.entrySet()) {
            JsonNode other = fb.get(e.getKey());
            if (!Objects.equals(e.getValue(), other)) out.add(new Change(e.getKey(), e.getValue(), other));
        }
        for (var e : fb.entrySet()) if (!fa.containsKey(e.getKey())) out.add(new Change(e.getKey(), null, e.getValue()));
        return out;
    }

    static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        if (SKIP.contains(prefix)) return;
        if (node.isObject()) {
            var it = node.fields();
            while (it.hasNext()) {
                var e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray() && !node.isEmpty() && node.get(0).isContainerNode()) {
            for (int i = 0; i < node.size(); i++) flatten(prefix + "." + i, node.get(i), out);
        } else {
            out.put(prefix, node);
        }
    }
}
