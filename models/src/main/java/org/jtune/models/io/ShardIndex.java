package org.jtune.models.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jtune.JtuneException;

/**
 * The index of a sharded checkpoint, {@code model.safetensors.index.json}:
 * {@code {"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file name}}}.
 * Shard names are plain file names in the index's folder ({@code model-00001-of-00003.safetensors});
 * a name with a path separator or "..", an empty name or a non-string value is rejected, so an index
 * cannot point outside its folder. {@code totalSize} is null when the index does not give it.
 */
public record ShardIndex(Long totalSize, Map<String, String> weightMap) {
    public static final String FILE_NAME = "model.safetensors.index.json";
    /** Largest index file read (a 400B-parameter model's index is well under 1 MB). */
    public static final long MAX_INDEX_BYTES = 100_000_000L;

    public ShardIndex {
        weightMap = Collections.unmodifiableMap(new TreeMap<>(weightMap));
    }

    /** The Hugging Face shard file name, 1-based: model-00001-of-00004.safetensors. */
    public static String shardName(int index, int count) {
        return String.format("model-%05d-of-%05d.safetensors", index, count);
    }

    public static ShardIndex read(Path file) throws JtuneException {
        JsonNode root;
        try {
            long size = Files.size(file);
            if (size > MAX_INDEX_BYTES) throw new JtuneException(file + ": " + size + " bytes is too large for a shard index");
            root = StrictJson.mapper().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new JtuneException(file + ": malformed shard index JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read shard index: " + e, e);
        }
        if (root == null || !root.isObject()) throw new JtuneException(file + ": shard index is not a JSON object");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new JtuneException(file + ": shard index has no weight_map object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) throw new JtuneException(file + ": weight_map entry for '" + e.getKey() + "' is not a file name");
            String shard = v.asText();
            if (!isPlainFileName(shard)) {
                throw new JtuneException(file + ": weight_map entry for '" + e.getKey() + "' names '"
                        + SafetensorsHeader.abbreviate(shard) + "', which is not a file name in the index's folder");
            }
            weightMap.put(e.getKey(), shard);
        }
        Long totalSize = null;
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.isObject() && meta.get("total_size") != null) {
            JsonNode ts = meta.get("total_size");
            if (!ts.canConvertToLong() || ts.asLong() < 0) {
                throw new JtuneException(file + ": metadata.total_size is not a non-negative integer");
            }
            totalSize = ts.asLong();
        }
        return new ShardIndex(totalSize, weightMap);
    }

    /** The index as JSON text, as Hugging Face writes it (two-space indent, sorted weight map). */
    public String toJson() {
        ObjectNode root = StrictJson.mapper().createObjectNode();
        ObjectNode meta = root.putObject("metadata");
        if (totalSize != null) meta.put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        try {
            return StrictJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a shard index", e);
        }
    }

    static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\\') < 0 && name.indexOf('\0') < 0 && !name.contains(":");
    }
}
