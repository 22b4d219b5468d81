package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.quant.nf4.Nf4Tensor;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * `jtune bench qlora`: one QLoRA training step (LoRA r 16 on every projection, gradient checkpointing, AdamW)
 * on the TinyLlama-1.1B shape at batch 4 × 512 and the Mistral-7B shape (dim 4096, 32 layers, 32/8 heads,
 * hidden 14336, vocab 32768) at batch 1 × 512, each on random weights written once to a temporary folder in
 * bitsandbytes' NF4 layout (double quantization; embeddings and LM head BF16; layers share their values),
 * loaded 4-bit by a fresh JVM ({@link QloraStep}) with no JVM flags of the user's; beside it, our F32 LoRA step
 * on the 1.1B shape (base F32 in memory) in the same run. Figures: peak RSS, seconds per step, tokens/s, and
 * for 1.1B {@code ratio} = QLoRA tok/s ÷ F32 LoRA tok/s. System properties: jtune.bench.threads,
 * jtune.bench.steps (1), jtune.bench.batch and jtune.bench.seq (override the shape's batch, e.g. for a
 * footprint check), jtune.bench.peer (false: skip the F32 LoRA step), jtune.bench.dora (true: DoRA adapters), jtune.bench.layers (override the number of layers: the
 * full width with fewer layers, to take the per-layer and the fixed parts of the footprint apart), jtune.bench.shapes ("1.1B,7B"; "15M" is a quick check of the path).
 */
public final class QloraBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Shape(String name, LlamaConfig config, int batch, int seq) {}

    private QloraBench() {}

    static Shape shape(String name) {
        return switch (name) {
            case "1.1B" -> new Shape(name, RandomLlamaFolder.tinyLlama(), 4, 512);
            case "7B" -> new Shape(name, RandomLlamaFolder.shape(4096, 32, 32, 8, 14336, 32768), 1, 512);
            case "15M" -> new Shape(name, RandomLlamaFolder.stories15M(), 4, 128); // a quick check of the whole path
            default -> throw new IllegalArgumentException("unknown qlora shape " + name + " (1.1B, 7B, 15M)");
        };
    }

    /** Runs {@link #run} with JSON output, for a JVM started on the class path directly (profiling flags). */
    public static void main(String[] args) throws Exception {
        System.exit(run(true));
    }

    public static int run(boolean json) throws Exception {
        int threads = Integer.getInteger("jtune.bench.threads", org.jtune.tensor.Parallel.threads());
        int steps = Integer.getInteger("jtune.bench.steps", 1);
        System.err.printf("qlora: LoRA r16 all-linear, gradient checkpointing, %d thread(s), %d step(s); load average %s%n", threads, steps,
                Files.readString(Path.of("/proc/loadavg")).trim());
        for (String name : System.getProperty("jtune.bench.shapes", "1.1B,7B").split(",")) {
            Shape s = shape(name.trim());
            LlamaConfig cfg = s.config;
            Integer layers = Integer.getInteger("jtune.bench.layers");
            if (layers != null) cfg = cfg.toBuilder().numHiddenLayers(layers).build();
            s = new Shape(layers == null ? s.name : s.name + "-" + layers + "L", cfg, Integer.getInteger("jtune.bench.batch", s.batch),
                    Integer.getInteger("jtune.bench.seq", s.seq));
            Path dir = Files.createTempDirectory("jtune-bench-qlora-");
            try {
                long t0 = System.nanoTime();
                writeNf4Folder(dir, s.config);
                System.err.printf("qlora %s: NF4 folder written in %.0f s (%d MiB)%n", s.name, (System.nanoTime() - t0) / 1e9,
                        Files.size(dir.resolve("model.safetensors")) >> 20);
                JsonNode q = step("qlora", dir.toString(), s, threads, steps);
                Double ratio = null;
                if (!s.name.startsWith("7B") && !"false".equals(System.getProperty("jtune.bench.peer"))) {
                    LlamaConfig c = s.config;
                    String spec = c.hiddenSize() + "," + c.numHiddenLayers() + "," + c.numAttentionHeads() + "," + c.numKeyValueHeads() + ","
                            + c.intermediateSize() + "," + c.vocabSize();
                    JsonNode f = step("lora", spec, s, threads, steps);
                    report(json, s, "lora_f32", f, null, threads);
                    ratio = (s.batch * s.seq / q.get("step_s").asDouble()) / (s.batch * s.seq / f.get("step_s").asDouble());
                }
                report(json, s, "qlora_nf4", q, ratio, threads);
            } finally {
                RandomLlamaFolder.delete(dir);
            }
        }
        return 0;
    }

    private static JsonNode step(String mode, String arg, Shape s, int threads, int steps) throws Exception {
        List<String> cmd = ChildJvm.command(QloraStep.class, List.of(mode, arg, "" + s.batch, "" + s.seq, "" + threads, "" + steps));
        return BackwardBench.runJson(cmd, "QloraStep " + s.name + " " + mode);
    }

    private static void report(boolean json, Shape s, String mode, JsonNode r, Double ratio, int threads) throws Exception {
        double stepS = r.get("step_s").asDouble(), tokS = s.batch * s.seq / stepS;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bench", "qlora");
        m.put("shape", s.name);
        m.put("mode", mode);
        m.put("batch", s.batch + "x" + s.seq);
        m.put("threads", threads);
        m.put("step_s", stepS);
        m.put("tokens_per_s", tokS);
        m.put("peak_rss_bytes", r.get("peak_rss_bytes").asLong());
        m.put("plan_bytes", r.get("plan_bytes").asLong());
        m.put("plan_over_peak", r.get("plan_bytes").asDouble() / r.get("peak_rss_bytes").asDouble());
        m.put("projection_bytes", r.get("projection_bytes").asLong());
        m.put("trainable_params", r.get("trainable_params").asLong());
        if (ratio != null) {
            m.put("peer", "lora_f32");
            m.put("ratio", ratio);
        }
        m.put("load_average", Files.readString(Path.of("/proc/loadavg")).trim());
        if (json) System.out.println(JSON.writeValueAsString(m));
        System.err.printf("qlora %s %s: %.1f s/step, %.1f tok/s, peak RSS %.2f GB (memory plan %.2f GB)%s%n", s.name, mode, stepS, tokS,
                r.get("peak_rss_bytes").asLong() / 1e9, r.get("plan_bytes").asLong() / 1e9, ratio == null ? "" : String.format("; %.2f × F32 LoRA", ratio));
    }

    /**
     * A random Llama of {@code c} in bitsandbytes' NF4 layout: each distinct projection quantized once (layers
     * share values), embeddings and an untied head in BF16, norms F32, config.json with its quantization_config.
     */
    static void writeNf4Folder(Path dir, LlamaConfig c) throws Exception {
        c.toBuilder().torchDtype("bfloat16").build().write(dir.resolve("config.json"));
        ObjectNode root = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        root.set("quantization_config", JSON.readTree("{\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true, \"bnb_4bit_quant_type\": \"nf4\","
                + " \"bnb_4bit_use_double_quant\": true, \"bnb_4bit_compute_dtype\": \"bfloat16\"}"));
        Files.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        Rng rng = new Rng(1);
        int d = c.hiddenSize(), q = c.numAttentionHeads() * c.headDim(), kv = c.numKeyValueHeads() * c.headDim(), h = c.intermediateSize();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("self_attn.q_proj.weight", new int[] {q, d});
        shapes.put("self_attn.k_proj.weight", new int[] {kv, d});
        shapes.put("self_attn.v_proj.weight", new int[] {kv, d});
        shapes.put("self_attn.o_proj.weight", new int[] {d, q});
        shapes.put("mlp.gate_proj.weight", new int[] {h, d});
        shapes.put("mlp.up_proj.weight", new int[] {h, d});
        shapes.put("mlp.down_proj.weight", new int[] {d, h});
        Map<String, Map<String, Tensor>> layer = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            int rows = e.getValue()[0], cols = e.getValue()[1];
            Tensor w = Tensor.randn(rng, 0.02f, rows, cols);
            Nf4Tensor nf4 = Nf4Tensor.quantize(w.toFloatArray(), rows, cols, Nf4Tensor.DEFAULT_BLOCK_SIZE, true);
            layer.put(e.getKey(), org.jtune.models.nf4.BnbNf4Checkpoint.tensors("W", nf4, "bfloat16"));
        }
        Map<String, Tensor> all = new LinkedHashMap<>();
        all.put("model.embed_tokens.weight", Tensor.randn(rng, 0.02f, c.vocabSize(), d).to(DType.BF16));
        all.put("lm_head.weight", Tensor.randn(rng, 0.02f, c.vocabSize(), d).to(DType.BF16));
        Tensor norm = Tensor.ones(d);
        all.put("model.norm.weight", norm);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            all.put(p + "input_layernorm.weight", norm);
            all.put(p + "post_attention_layernorm.weight", norm);
            for (var e : layer.entrySet()) {
                for (var t : e.getValue().entrySet()) all.put(p + e.getKey() + t.getKey().substring(1), t.getValue());
            }
        }
        new SafetensorsWriter(Map.of("format", "pt"), null, SafetensorsWriter.DEFAULT_MAX_SHARD_BYTES, false).writeModel(dir, all);
    }
}
