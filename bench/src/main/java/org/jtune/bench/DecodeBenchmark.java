package org.jtune.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import java.nio.file.Files;
import java.nio.file.Path;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.gguf.HfToGguf;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.quant.gguf.GgufTensorInfo;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;

/**
 * `jtune bench decode`: batch-1 prefill of a 128-token prompt ({@code -Djtune.bench.decode.prompt=N}: N tokens, to decode
 * at a longer context; {@code -Djtune.bench.decode.kvType=bf16}: jtune's KV cache in BF16, as llama.cpp keeps its own in F16; default auto, as
 * jtune generate picks it: BF16 for the BF16 folder, F32 for the F32 folder and the GGUF files)
 * and token-by-token decoding of a
 * TinyLlama-1.1B-shaped model (dim 2048, 22 layers, 32 heads, 4 KV heads, hidden 5632, vocab 32000)
 * with random weights, written once per dtype (F32, BF16) to a temporary Hugging Face folder ({@link RandomLlamaFolder}) and
 * memory-mapped, beside the memory-bandwidth bound: the weight bytes one decoded token reads (every
 * projection and the LM head; one embedding row) ÷ the copy bandwidth measured right after the decode in its process
 * (bytes copied per second by a large memory copy on the same threads; a decode step only reads its
 * weights, and a read stream runs at about the speed of a copy's read side). Layers share their
 * random values (the file still holds every layer), so generating the model needs little memory.
 * The folder also gets a minimal tokenizer.json of our own ({@link CharacterTokenizerJson}) so that
 * Jlama ({@link JlamaPeer}, a child JVM) can run on the same files with a prompt of the same length.
 * The F32 and BF16 rows get llama.cpp as a second peer, on a GGUF export of the same weights in the same type.
 * Then Q8_0, Q4_0 and Q4_K_M rows on GGUF exports of the same weights, each beside llama.cpp on the same file in the
 * same run ({@link #quantizedRows}).
 * Every engine runs in a process of its own ({@link DecodeRun} for jtune) on files flushed and dropped from the page cache
 * first ({@link SettledFiles}), as a user's `jtune generate` meets a model downloaded earlier.
 * {@code -Djtune.bench.decode.family=qwen3|gemma3|qwen3moe} runs the quantized rows on the Qwen3-0.6B, Gemma-3-1B or (cut to
 * {@code -Djtune.bench.decode.layers}, default 4) Qwen3-30B-A3B shape instead
 * (random weights written through the family's own name table, {@link RandomLlamaFolder#writeFamily}), against llama.cpp on
 * the same GGUF files: how the other families' decode paths fare beside llama.cpp's graphs for them.
 * Major page faults per generated token are reported: a mapped weight whose pages the OS dropped is
 * read back from disk on every token, which no kernel can hide (stderr says so when it happens).
 * {@code --quick} runs a small model to check the benchmark itself.
 */
final class DecodeBenchmark {
    static final List<String> ALL_FORMATS = List.of("f32", "bf16", "q8_0", "q4_0", "q4_k");
    private final boolean quick;
    private final List<String> formats;

    DecodeBenchmark(boolean quick, List<String> formats) {
        this.quick = quick;
        this.formats = formats(formats);
    }

    /** The formats as the benchmark names them: lower case, q4_k_m (the Q4_K_M row's usual name) as q4_k; an unknown one refused. */
    static List<String> formats(List<String> names) {
        List<String> formats = names.stream().map(f -> f.toLowerCase(java.util.Locale.ROOT)).map(f -> f.equals("q4_k_m") ? "q4_k" : f).toList();
        for (String f : formats) {
            if (!ALL_FORMATS.contains(f)) throw new IllegalArgumentException("--formats: unknown format " + f + "; use " + String.join(", ", ALL_FORMATS));
        }
        return formats;
    }

    int run(boolean json) throws Exception {
        try (var heap = RandomLlamaFolder.boundHeap()) {
            return runRows(json);
        }
    }

    private int runRows(boolean json) throws Exception {
        String family = System.getProperty("jtune.bench.decode.family", "llama");
        if (!family.equals("llama")) return familyRows(family, json);
        LlamaConfig config = quick
                ? RandomLlamaFolder.shape(256, 2, 8, 2, 768, 1000)
                : RandomLlamaFolder.tinyLlama();
        int prompt = Integer.getInteger("jtune.bench.decode.prompt", quick ? 16 : 128), decode = quick ? 8 : 32, runs = quick ? 1 : 3;
        if (prompt < 1) throw new IllegalArgumentException("jtune.bench.decode.prompt must be at least 1, not " + prompt);
        System.err.printf("decode: %s, %d threads; load average %s%n", quick ? "quick shape" : "TinyLlama-1.1B shape", Parallel.threads(),
                LoadAverage.read());
        long bandwidthBytes = quick ? 64 << 20 : 1 << 30;
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            if (!formats.contains(dtype.name().toLowerCase(java.util.Locale.ROOT))) continue;
            Path dir = Files.createTempDirectory("jtune-bench-decode-");
            try {
                long bytesPerToken = RandomLlamaFolder.write(dir, config, dtype);
                Measured run = measure(dir, config, prompt, decode, runs, bandwidthBytes);
                double[] t = run.t();
                double copyBandwidth = t[3], readBandwidth = t[4], bound = copyBandwidth / bytesPerToken;
                ResultLine line = new ResultLine().put("bench", "decode").put("dtype", dtype.name()).put("threads", Parallel.threads())
                        .put("prefill_tokens", prompt).put("kv_type", run.kvType()).put("prefill_tok_s", prompt / t[0]).put("decode_tok_s", 1 / t[1])
                        .put("bound_tok_s", bound).put("decode_over_bound", (1 / t[1]) / bound)
                        .put("weight_bytes_per_token", bytesPerToken).put("copy_gb_per_s", copyBandwidth / 1e9)
                        .put("read_gb_per_s", readBandwidth / 1e9).put("read_bound_tok_s", readBandwidth / bytesPerToken)
                        .put("major_faults_per_token", t[2]).put("alloc_bytes_per_token", t[5])
                        .put("model_read_gb_per_s", t[6] / 1e9).put("decode_over_model_read", (1 / t[1]) / (t[6] / bytesPerToken));
                putPrefillRate(line, t);
                JsonNode peer = jlama(dir, prompt, decode, runs);
                if (peer == null) {
                    line.put("peer", "none");
                } else {
                    line.put("peer", "jlama").put("peer_prompt_tokens", peer.get("prompt_tokens").asInt())
                            .put("peer_prefill_tok_s", peer.get("prefill_tok_s").asDouble())
                            .put("peer_decode_tok_s", peer.get("decode_tok_s").asDouble())
                            .put("ratio", (1 / t[1]) / peer.get("decode_tok_s").asDouble())
                            .put("prefill_ratio", (prompt / t[0]) / peer.get("prefill_tok_s").asDouble());
                }
                llamaCppSecondPeer(line, dir, dtype, config, prompt, decode, t);
                line.print(json);
            } finally {
                RandomLlamaFolder.delete(dir);
            }
        }
        if (formats.stream().anyMatch(f -> f.startsWith("q"))) quantizedRows(config, prompt, decode, runs, bandwidthBytes, json);
        System.err.println("decode: done");
        return 0;
    }

    /**
     * llama.cpp as the F32/BF16 rows' second peer: the same folder exported as a GGUF file of the same type, run in the same
     * run; fields {@code llama_cpp_*} beside Jlama's.
     */
    private static void llamaCppSecondPeer(ResultLine line, Path dir, DType dtype, LlamaConfig config, int prompt, int decode, double[] t)
            throws Exception {
        Path gguf = dir.resolve("model-" + dtype + ".gguf");
        try {
            HfToGguf.export(dir, dtype == DType.F32 ? GgmlType.F32 : GgmlType.BF16, gguf);
            double[] peer = llamaCpp(gguf, config, prompt, decode);
            if (peer == null) return;
            line.put("llama_cpp_prefill_tok_s", peer[0]).put("llama_cpp_decode_tok_s", peer[1]).put("llama_cpp_threads", (int) peer[2])
                    .put("llama_cpp_ratio", (1 / t[1]) / peer[1]).put("llama_cpp_prefill_ratio", (prompt / t[0]) / peer[0]);
        } finally {
            Files.deleteIfExists(gguf);
        }
    }

    /** The quantized rows of another family's shape (Qwen3-0.6B, Gemma-3-1B; --quick: small ones), beside llama.cpp. */
    private int familyRows(String family, boolean json) throws Exception {
        ModelConfig config = RandomLlamaFolder.familyShape(family, quick);
        int prompt = Integer.getInteger("jtune.bench.decode.prompt", quick ? 16 : 128), decode = quick ? 8 : 32, runs = quick ? 1 : 3;
        System.err.printf("decode: %s shape (%s), %d threads; load average %s%n", family, quick ? "quick" : config.architecture(), Parallel.threads(),
                LoadAverage.read());
        quantizedRows(config, prompt, decode, runs, quick ? 64 << 20 : 1 << 30, json);
        System.err.println("decode: done");
        return 0;
    }

    /**
     * Q8_0, Q4_0 and Q4_K rows: the random BF16 folder exported once per type as a GGUF file ({@link HfToGguf}: q4_k is
     * llama.cpp's Q4_K_M mixture, Q6_K output), run by jtune (tensors mapped in their stored types, decoded through the
     * block kernels) and by llama.cpp (node-llama-cpp, same file, same prompt length, one sequence) in the same run. The
     * bound counts the weight bytes of the file one token reads (every matrix but the embedding, plus one embedding row; of a
     * mixture's stacked experts the share k / E).
     */
    private void quantizedRows(ModelConfig config, int prompt, int decode, int runs, long bandwidthBytes, boolean json)
            throws Exception {
        Path dir = Files.createTempDirectory("jtune-bench-decode-q-");
        try {
            if (config instanceof LlamaConfig llama) RandomLlamaFolder.write(dir, llama, DType.BF16);
            else RandomLlamaFolder.writeFamily(dir, config, DType.BF16);
            for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K}) {
                if (!formats.contains(type.name().toLowerCase(java.util.Locale.ROOT))) continue;
                Path gguf = dir.resolve("model-" + type + ".gguf");
                HfToGguf.export(dir, type, gguf);
                long bytesPerToken = 0;
                try (GgufFile f = GgufReader.open(gguf)) {
                    for (GgufTensorInfo t : f.tensors()) {
                        boolean embedding = t.name().equals("token_embd.weight") && f.hasTensor("output.weight");
                        // a token reads k of a mixture's E experts
                        long bytes = t.name().endsWith("_exps.weight") ? t.byteSize() * config.moe().expertsPerToken() / config.moe().numExperts() : t.byteSize();
                        bytesPerToken += embedding ? t.byteSize() / Math.max(1, t.rowCount()) : bytes;
                    }
                }
                Measured run = measure(gguf, config, prompt, decode, runs, bandwidthBytes);
                double[] t = run.t();
                double copyBandwidth = t[3], readBandwidth = t[4], bound = copyBandwidth / bytesPerToken;
                String name = type == GgmlType.Q4_K ? "Q4_K_M" : type.name();
                ResultLine line = new ResultLine().put("bench", "decode").put("family", config.modelType()).put("dtype", name).put("threads", Parallel.threads())
                        .put("prefill_tokens", prompt).put("kv_type", run.kvType()).put("prefill_tok_s", prompt / t[0]).put("decode_tok_s", 1 / t[1])
                        .put("bound_tok_s", bound).put("decode_over_bound", (1 / t[1]) / bound)
                        .put("weight_bytes_per_token", bytesPerToken).put("copy_gb_per_s", copyBandwidth / 1e9)
                        .put("read_gb_per_s", readBandwidth / 1e9).put("read_bound_tok_s", readBandwidth / bytesPerToken)
                        .put("major_faults_per_token", t[2]).put("alloc_bytes_per_token", t[5]);
                putPrefillRate(line, t);
                double[] peer = llamaCpp(gguf, config, prompt, decode);
                if (peer == null) {
                    line.put("peer", "none");
                } else {
                    line.put("peer", "llama.cpp").put("peer_threads", (int) peer[2]).put("peer_prefill_tok_s", peer[0])
                            .put("peer_decode_tok_s", peer[1]).put("ratio", (1 / t[1]) / peer[1]).put("prefill_ratio", (prompt / t[0]) / peer[0]);
                }
                line.print(json);
                Files.deleteIfExists(gguf);
            }
        } finally {
            RandomLlamaFolder.delete(dir);
        }
    }

    /**
     * llama.cpp on the GGUF file: one sequence, the prompt of the same length, decode tokens: {prefill tok/s (prompt over
     * the time to the first token), decode tok/s (one over the median inter-token time), threads}; null when the peer is
     * not installed or fails. Threads: LLAMACPP_THREADS, else jtune's thread count.
     */
    private static double[] llamaCpp(Path gguf, ModelConfig c, int prompt, int decode) {
        String env = System.getenv("LLAMACPP_THREADS");
        try (LlamaCppServePeer peer = LlamaCppServePeer.start(gguf, gguf.resolveSibling("llamacpp.log"),
                env == null || env.isBlank() ? Parallel.threads() : Integer.parseInt(env.trim()))) {
            if (peer == null) {
                System.err.println("decode: llama.cpp peer not installed (cd bench/peers/llamacpp && npm install --omit=optional)");
                return null;
            }
            Rng rng = new Rng(3);
            int[] ids = new int[prompt];
            for (int i = 0; i < prompt; i++) ids[i] = 3 + rng.nextInt(c.vocabSize() - 3);
            peer.run(List.of(new ServeLoad.Request("m", ids, 2, 0, 1, 0)), 1); // warm-up
            ServeLoad.Level l = peer.run(List.of(new ServeLoad.Request("m", ids, decode + 1, 0, 1, 0)), 1);
            double ttft = l.ttftMs()[l.ttftMs().length / 2] / 1000, itl = l.itlMs()[l.itlMs().length / 2] / 1000;
            return new double[] {prompt / ttft, 1 / itl, peer.threads};
        } catch (Exception e) {
            System.err.println("decode: llama.cpp peer failed: " + e.getMessage());
            return null;
        }
    }

    /** Jlama on the same folder (flushed and dropped, as for ours) in a child JVM with this JVM's flags; null when it fails. */
    private static JsonNode jlama(Path dir, int prompt, int decode, int runs) {
        try {
            SettledFiles.settle(dir);
            return BackwardBench.runJson(ChildJvm.command(JlamaPeer.class, List.of(dir.toString(), "" + prompt, "" + decode, "" + runs)),
                    "Jlama peer");
        } catch (Exception e) {
            System.err.println("decode: Jlama peer failed: " + e.getMessage());
            return null;
        }
    }

    /**
     * jtune on the model at {@code path}, in a JVM of its own ({@link DecodeRun}) on the file flushed and dropped from the page
     * cache ({@link SettledFiles}): {median prefill seconds, median seconds per decode step, major faults per token, copy
     * bytes/s, read bytes/s, bytes allocated per decode step, read bytes/s of the model's own F32/BF16 weights
     * ({@link ModelReadBandwidth}; 0 when quantized), the prefill's FLOPs ({@link DecodeRun#prefillFlops}), the F32 FMA peak
     * ({@link FmaPeak})}; the bandwidths are measured in that process right after the decode, because this VM's memory bandwidth moves from minute to minute (a copy of 1 GiB: 20 and 35 GB/s in two runs 20
     * minutes apart, 2026-12-05) and a bound taken minutes earlier gave ratios above 1.
     */
    /** One {@link DecodeRun}: the figures {@link #measure} lists, and the KV cache type it ran (auto resolved). */
    private record Measured(double[] t, String kvType) {}

    private Measured measure(Path path, ModelConfig c, int prompt, int decode, int runs, long bandwidthBytes) throws Exception {
        SettledFiles.settle(path);
        JsonNode r = BackwardBench.runJson(ChildJvm.command(DecodeRun.class, List.of(path.toString(), "" + c.vocabSize(), "" + prompt,
                "" + decode, "" + runs, "" + bandwidthBytes)), "DecodeRun " + path.getFileName());
        double faults = r.get("major_faults_per_token").asDouble(), allocated = r.get("alloc_bytes_per_token").asDouble();
        if (faults > 1) {
            System.err.printf("decode: %s re-read from disk: %.0f major page faults per token (the OS dropped mapped pages;"
                    + " decode is bound by the disk, not memory; --mlock keeps them)%n", path.getFileName(), faults);
        }
        // a decode step's own outputs take 4.6 (BF16) to 5.8 MB (Q4_K_M) per token of the 1.1B shape; boxed vectors took 46.
        // Not judged on --quick's small model: its few tokens are not a warmed-up measure (Q4_K_M: 15 MB per token in a
        // quick run before the 2026-12-07 kernel, 25 after, 8 on the full shape; after warm-up that kernel allocates only
        // its three scratch arrays, 816 bytes, per call)
        if (!quick && allocated > 16 << 20) {
            System.err.printf("decode: %s allocates %.1f MB per token: a kernel's vectors are boxed (C2 left a call it should"
                    + " have inlined; -XX:+PrintInlining shows which)%n", path.getFileName(), allocated / 1e6);
        }
        double prefillS = r.get("prefill_s").asDouble(), flops = r.get("prefill_flops").asDouble(), fma = r.get("fma_flops_per_s").asDouble();
        // healthy rows of the 1.1B shape run their prefill at 0.55-0.9 of the F32 FMA peak; a Q4_K kernel that C1 refused and
        // C2 then compiled badly ran at 0.17 (bench/RESULTS.md, 2026-12-06). Small prompts are mostly overhead: not judged.
        if (flops >= 1e10 && flops / prefillS < COLLAPSED_PREFILL * fma) {
            System.err.printf("decode: %s prefills at %.1f GFLOP/s, %.2f of this process's F32 FMA peak (%.0f GFLOP/s): a kernel"
                    + " runs far below its compiled speed (-XX:+PrintCompilation | grep SKIPPED shows a method C1 gave up on)%n",
                    path.getFileName(), flops / prefillS / 1e9, flops / prefillS / fma, fma / 1e9);
        }
        return new Measured(new double[] {prefillS, r.get("step_s").asDouble(), faults, r.get("copy_bytes_per_s").asDouble(),
                r.get("read_bytes_per_s").asDouble(), allocated, r.get("model_read_bytes_per_s").asDouble(), flops, fma},
                r.get("kv_type").asText());
    }

    /** A prefill below this fraction of the F32 FMA peak is reported as collapsed ({@link #measure}). */
    static final double COLLAPSED_PREFILL = 0.3;

    /** The prefill's GFLOP/s and its fraction of the F32 FMA peak, from {@link #measure}'s result t. */
    private static void putPrefillRate(ResultLine line, double[] t) {
        double rate = t[7] / t[0];
        line.put("prefill_gflop_s", rate / 1e9).put("fma_peak_gflop_s", t[8] / 1e9).put("prefill_over_fma_peak", rate / t[8]);
    }

    /** Bytes copied per second (each byte is read once and written once) from a large buffer, split across the pool like a kernel. */
    static double copyBandwidth(long bytes) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(bytes, 64), dst = arena.allocate(bytes, 64);
            src.fill((byte) 1);
            dst.fill((byte) 0);
            int chunks = Parallel.threads() * 8;
            double[] t = new double[7];
            for (int r = 0; r < t.length; r++) {
                long t0 = System.nanoTime();
                Parallel.forRange(chunks, 1, (c0, c1) -> {
                    long from = bytes * c0 / chunks, to = bytes * c1 / chunks;
                    MemorySegment.copy(src, from, dst, from, to - from);
                });
                t[r] = (System.nanoTime() - t0) / 1e9;
            }
            return bytes / Timing.median(Arrays.copyOfRange(t, 2, t.length));
        }
    }

    /**
     * Bytes read per second by a vector sum over a large buffer on the same threads (read only, like
     * a decode step's weights): a second, tighter roofline beside the copy-based bound.
     */
    static double readBandwidth(long bytes) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(bytes, 64);
            src.fill((byte) 1);
            float check = 0;
            for (int w = 0; w < 200; w++) check += MappedGemvBandwidth.sum(src, 0, 1 << 20); // compile the loop before timing it
            int chunks = Parallel.threads() * 8;
            long unit = 4L * READ.vectorByteSize();
            float[] sink = new float[chunks];
            double[] t = new double[7];
            for (int r = 0; r < t.length; r++) {
                long t0 = System.nanoTime();
                Parallel.forRange(chunks, 1, (c0, c1) -> {
                    for (int c = c0; c < c1; c++) sink[c] = MappedGemvBandwidth.sum(src, bytes * c / chunks / unit * unit, bytes * (c + 1) / chunks / unit * unit);
                });
                t[r] = (System.nanoTime() - t0) / 1e9;
            }
            for (float f : sink) check += f;
            if (Float.isNaN(check)) System.err.println("decode: unexpected NaN in the read sum");
            return (bytes / unit * unit) / Timing.median(Arrays.copyOfRange(t, 2, t.length));
        }
    }

    private static final VectorSpecies<Float> READ = FloatVector.SPECIES_PREFERRED; // MappedGemvBandwidth.sum's vectors

}
