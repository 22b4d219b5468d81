package org.jtune.models.families;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The tiny random checkpoints of the family reference tests, made here bit for bit as
 * bench/peers/families/families_reference.py makes them (so no weights are committed): the config
 * is the one in the committed reference file, the tensors are the ones the family's name table
 * declares, and element i of tensor NAME is
 * float32(center + scale·(2u − 1)), u = (splitmix64(fnv1a64(NAME) + seed·0x9E3779B97F4A7C15 + i) >>> 40) / 2²⁴,
 * with norms center 1 and scale 1/4, biases scale 1/2, embeddings 1/4, projections √(3/in) and
 * lm_head 3·√(3/in).
 */
final class FamilyCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FamilyCheckpoint() {}

    /** The committed reference of a family (models/src/test/resources/families/FAMILY-reference.json). */
    static JsonNode reference(String family) throws IOException {
        try (InputStream in = FamilyCheckpoint.class.getResourceAsStream("/families/" + family + "-reference.json")) {
            if (in == null) throw new IOException("no resource /families/" + family + "-reference.json");
            return JSON.readTree(in);
        }
    }

    /** Writes config.json and model.safetensors of the reference's tiny checkpoint into {@code dir}; returns the tensors. */
    static Map<String, Tensor> write(JsonNode reference, Path dir) throws Exception {
        Files.createDirectories(dir);
        String config = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(reference.get("config"));
        Files.writeString(dir.resolve("config.json"), config);
        ModelConfig parsed = Architectures.parseConfig(config, dir.resolve("config.json").toString());
        long seed = reference.get("generator").get("seed").asLong();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (CausalLM shapeOnly = Architectures.random(parsed, new Rng(0), 0f)) {
            for (Weight w : shapeOnly.weights().all()) tensors.put(w.name(), generate(w.name(), w.shape(), seed));
        }
        SafetensorsWriter.defaults().withFloatDType(DType.F32).writeFile(dir.resolve("model.safetensors"), tensors);
        return tensors;
    }

    static Tensor generate(String name, int[] shape, long seed) {
        int n = 1;
        for (int s : shape) n *= s;
        double center = 0, scale;
        if (name.endsWith("norm.weight")) {
            center = 1;
            scale = 0.25;
        } else if (name.endsWith(".bias")) {
            scale = 0.5;
        } else if (name.endsWith("embed_tokens.weight")) {
            scale = 0.25;
        } else {
            scale = Math.sqrt(3.0 / shape[1]) * (name.equals("lm_head.weight") ? 3.0 : 1.0);
        }
        long key = fnv1a64(name) + seed * 0x9E3779B97F4A7C15L;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u = (splitmix64(key + i) >>> 40) / 16777216.0;
            v[i] = (float) (center + scale * (2.0 * u - 1.0));
        }
        return Tensor.of(v, shape);
    }

    private static long fnv1a64(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001B3L;
        }
        return h;
    }

    private static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
