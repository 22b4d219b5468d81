package org.jtune.models.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.models.config.GraniteScales;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.gemma3.Gemma3Config;
import org.jtune.models.qwen2.Qwen2Config;
import org.jtune.models.weights.WeightSource;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufMetadata;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.quant.gguf.GgufTensorInfo;
import org.jtune.quant.gguf.GgufNames;
import org.jtune.tensor.DType;
import org.jtune.tensor.ResidentMemory;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * A GGUF file (architecture llama, granite, qwen2, qwen3, qwen3moe or gemma3) as a jtune model: its Hugging Face config from the
 * ARCH.* metadata (a {@link LlamaConfig} — Mixtral's when the file has experts —, a {@link Qwen2Config} for the Qwen
 * architectures, a {@link Gemma3Config}), and its tensors by Hugging Face name in their stored types, read in place from
 * the mapping (each expert's matrix a slice of its stacked tensor) — F32/F16/BF16 as plain
 * tensors, Q8_0/Q4_0/Q4_K/Q6_K as block-quantized ones ({@code DType.BLOCK}, no full-precision copy). Query
 * and key rows, which GGUF stores in llama.cpp's interleaved rotary order, are put back in Hugging Face order
 * (a copy of those two matrices' rows, in their stored type). {@link #describe} writes the config, tokenizer
 * and prompt format (chat template, trained system message) of a file beside a link to it, so every command that
 * reads a model folder reads a GGUF file; {@link #shown} gives the file to name in errors about such a folder.
 * Errors name the file and the key or tensor.
 */
public final class GgufModels {
    /** The name of the link to the GGUF file inside a folder made by {@link #describe}. */
    public static final String LINK = "model.gguf";

    private GgufModels() {}

    /** Whether {@code path} is a GGUF file (by its name; the reader checks the magic). */
    public static boolean isGguf(Path path) {
        return path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf") && !Files.isDirectory(path);
    }

    /** The GGUF file a model folder holds instead of safetensors (a folder made by {@link #describe}), if any. */
    public static Optional<Path> weightsOf(Path dir) {
        Path link = dir.resolve(LINK);
        return Files.isDirectory(dir) && Files.exists(link) ? Optional.of(link) : Optional.empty();
    }

    /**
     * The path to name in an error about model folder {@code dir}: the GGUF file when dir is a folder made by
     * {@link #describe} (its temporary name means nothing to the user), else dir itself.
     */
    public static Path shown(Path dir) {
        if (dir == null) return null;
        Path link = dir.resolve(LINK);
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link) : dir;
        } catch (IOException | UnsupportedOperationException e) {
            return dir;
        }
    }

    /** The Hugging Face config of a GGUF file: Llama for "llama", Qwen2 or Qwen3 for "qwen2" and "qwen3", Gemma 3 for "gemma3". */
    public static ModelConfig config(GgufFile f) throws JtuneException {
        GgufMetadata m = f.metadata();
        GgufNames.Hyperparameters h;
        try {
            h = GgufNames.Hyperparameters.fromMetadata(m);
        } catch (JtuneException e) {
            throw new JtuneException(f.path() + ": " + e.getMessage() + " (jtune runs GGUF files of the llama, granite, qwen2, qwen3, qwen3moe and gemma3 architectures)", e);
        }
        String a = h.architecture();
        GgufNames.Experts experts;
        try {
            experts = GgufNames.Experts.fromMetadata(m);
        } catch (JtuneException e) {
            throw new JtuneException(f.path() + ": " + e.getMessage(), e);
        }
        MoeConfig moe = null;
        if (experts != null) {
            if (!a.equals(GgufNames.LLAMA) && !a.equals(GgufNames.QWEN3MOE)) throw new JtuneException(f.path() + ": " + a + " file with experts");
            try {
                // llama.cpp's llama (Mixtral) and qwen3moe graphs: softmax router, the chosen weights rescaled, experts in every layer
                moe = new MoeConfig(toInt(f, experts.count(), a + GgufNames.Experts.COUNT), toInt(f, experts.used(), a + GgufNames.Experts.USED),
                        toInt(f, experts.feedForwardLength(), a + GgufNames.Experts.FEED_FORWARD_LENGTH), true, 1, List.of());
            } catch (IllegalArgumentException e) {
                throw new JtuneException(f.path() + ": " + e.getMessage(), e);
            }
        } else if (a.equals(GgufNames.QWEN3MOE)) {
            throw new JtuneException(f.path() + ": metadata " + a + GgufNames.Experts.COUNT + " is missing");
        }
        long vocab = h.vocabSize() > 0 ? h.vocabSize() : m.has("tokenizer.ggml.tokens") ? m.getStrings("tokenizer.ggml.tokens").length : -1;
        if (vocab <= 0) throw new JtuneException(f.path() + ": neither " + a + ".vocab_size nor tokenizer.ggml.tokens gives the vocabulary size");
        int bos = m.has("tokenizer.ggml.bos_token_id") ? m.getInt("tokenizer.ggml.bos_token_id") : 1;
        int eos = m.has("tokenizer.ggml.eos_token_id") ? m.getInt("tokenizer.ggml.eos_token_id") : 2;
        int dim = toInt(f, h.embeddingLength(), a + ".embedding_length"), ffn = toInt(f, h.feedForwardLength(), a + ".feed_forward_length"),
                layers = toInt(f, h.blockCount(), a + ".block_count"), heads = toInt(f, h.headCount(), a + ".attention.head_count"),
                kvHeads = toInt(f, h.headCountKv(), a + ".attention.head_count_kv"), headDim = toInt(f, h.keyLength(), a + ".attention.key_length"),
                context = toInt(f, h.contextLength(), a + ".context_length"), vocabSize = toInt(f, vocab, a + ".vocab_size");
        boolean tied = !f.hasTensor("output.weight");
        var scaling = GgufRopeScaling.read(f, a, headDim, h.ropeFreqBase());
        if (a.equals(GgufNames.LLAMA) || a.equals(GgufNames.GRANITE)) {
            boolean granite = a.equals(GgufNames.GRANITE);
            GraniteScales scales = null;
            if (granite) {
                try {
                    // llama.cpp reads each key as optional; jtune writes all four
                    scales = new GraniteScales(number(f, a + GgufNames.EMBEDDING_SCALE), number(f, a + GgufNames.RESIDUAL_SCALE),
                            number(f, a + GgufNames.ATTENTION_SCALE), number(f, a + GgufNames.LOGIT_SCALE));
                } catch (IllegalArgumentException e) {
                    throw new JtuneException(f.path() + ": " + e.getMessage(), e);
                }
            }
            return LlamaConfig.builder().architecture(granite ? LlamaConfig.GRANITE : moe != null ? LlamaConfig.MIXTRAL : LlamaConfig.LLAMA)
                    .modelType(granite ? "granite" : moe != null ? "mixtral" : "llama")
                    .moe(moe).granite(scales).hiddenSize(dim).intermediateSize(ffn)
                    .numHiddenLayers(layers).numAttentionHeads(heads).numKeyValueHeads(kvHeads).headDim(headDim)
                    .ropeTheta(h.ropeFreqBase()).ropeScaling(scaling).rmsNormEps(h.rmsNormEpsilon()).tieWordEmbeddings(tied)
                    .maxPositionEmbeddings(context).vocabSize(vocabSize).bosTokenIds(List.of(bos)).eosTokenIds(List.of(eos)).torchDtype("float32").build();
        }
        if (a.equals(GgufNames.GEMMA3)) {
            // what llama.cpp's gemma3 graph fixes: every sixth layer global, local RoPE base 10^4, attention by head_dim
            String window = a + ".attention.sliding_window";
            if (!m.has(window)) throw new JtuneException(f.path() + ": metadata " + window + " is missing");
            try {
                return new Gemma3Config("gemma3_text", dim, ffn, layers, heads, kvHeads, headDim, headDim, h.ropeFreqBase(), 10_000.0, scaling,
                        h.rmsNormEpsilon(), toInt(f, m.getLong(window), window), Gemma3Config.patternLayers(layers, 6), null, tied, context, vocabSize,
                        List.of(bos), List.of(eos), "float32", Map.of());
            } catch (IllegalArgumentException e) {
                throw new JtuneException(f.path() + ": " + e.getMessage(), e);
            }
        }
        Qwen2Config.Builder b = a.equals(GgufNames.QWEN3) ? Qwen2Config.builder().qwen3()
                : a.equals(GgufNames.QWEN3MOE) ? Qwen2Config.builder().qwen3Moe(moe) : Qwen2Config.builder();
        return b.hiddenSize(dim).intermediateSize(ffn).numHiddenLayers(layers).numAttentionHeads(heads).numKeyValueHeads(kvHeads)
                .headDim(headDim).ropeTheta(h.ropeFreqBase()).ropeScaling(scaling).rmsNormEps(h.rmsNormEpsilon()).tieWordEmbeddings(tied)
                .maxPositionEmbeddings(context).vocabSize(vocabSize).bosTokenIds(List.of(bos)).eosTokenIds(List.of(eos))
                .torchDtype("float32").build();
    }

    /** A float key of the metadata; an error names it when it is missing. */
    private static double number(GgufFile f, String key) throws JtuneException {
        if (!f.metadata().has(key)) throw new JtuneException(f.path() + ": metadata " + key + " is missing");
        return f.metadata().getDouble(key);
    }

    private static int toInt(GgufFile f, long v, String key) throws JtuneException {
        if (v <= 0 || v > 1 << 24) throw new JtuneException(f.path() + ": metadata " + key + " = " + v + " is out of range");
        return (int) v;
    }

    /** The file's tensors by Hugging Face name, in their stored types (see the class comment). */
    public static WeightSource weights(GgufFile f, ModelConfig c) throws JtuneException {
        String arch = f.metadata().getString("general.architecture");
        Map<String, GgufTensorInfo> byHf = new LinkedHashMap<>();
        Map<String, Integer> expertOf = new java.util.HashMap<>();   // an expert's Hugging Face name → its index in the stacked tensor
        for (GgufTensorInfo t : f.tensors()) {
            if (GgufNames.expertName(arch, t.name(), 0).isPresent()) {
                MoeConfig moe = c.moe();
                if (moe == null || t.rank() != 3 || t.dim(2) != moe.numExperts()) {
                    throw new JtuneException(f.path() + ": tensor " + t.name() + " is not a stack of the metadata's "
                            + (moe == null ? 0 : moe.numExperts()) + " experts");
                }
                for (int e = 0; e < moe.numExperts(); e++) {
                    String hf = GgufNames.expertName(arch, t.name(), e).orElseThrow();
                    byHf.put(hf, t);
                    expertOf.put(hf, e);
                }
                continue;
            }
            Optional<String> hf = GgufNames.toHuggingFace(arch, t.name());
            if (hf.isEmpty()) {
                if (t.name().equals(GgufRopeScaling.FREQS)) continue; // Llama 3's RoPE scaling: read into the config (GgufRopeScaling)
                throw new JtuneException(f.path() + ": tensor " + t.name() + " has no Hugging Face name in the " + arch + " layout");
            }
            byHf.put(hf.get(), t);
        }
        String origin = f.path().toString();
        return new WeightSource() {
            public Tensor get(String name) throws JtuneException {
                GgufTensorInfo t = byHf.get(name);
                if (t == null) return null;
                Integer expert = expertOf.get(name);
                if (expert != null) return expert(f, t, expert);
                float shift = GgufNames.normShift(arch, name);
                return shift == 0 ? tensor(f, t, c, arch) : Tensor.of(shifted(f.dequantize(t), -shift), (int) t.dim(0));
            }

            public Set<String> names() {
                return byHf.keySet();
            }

            public String origin() {
                return origin;
            }
        };
    }

    private static float[] shifted(float[] values, float by) {
        for (int i = 0; i < values.length; i++) values[i] += by;
        return values;
    }

    /** Expert e's (out, in) matrix of a stacked tensor (ne = [in, out, experts]), in place. */
    static Tensor expert(GgufFile f, GgufTensorInfo t, int e) throws JtuneException {
        BlockFormat format = t.type().format();
        if (format == null) throw new JtuneException(f.path() + ": tensor " + t.name() + " is " + t.type() + ", which jtune cannot compute with");
        int cols = (int) t.dim(0), rows = (int) t.dim(1);
        long bytes = format.rowBytes((long) cols) * rows;
        MemorySegment data = f.data(t).asSlice(e * bytes, bytes);
        return t.type().isQuantized() ? Tensor.blockQuantized(format, data, rows, cols) : plain(f, t, data, new int[] {rows, cols});
    }

    /** One tensor, in place (rotary rows reordered into a copy). */
    static Tensor tensor(GgufFile f, GgufTensorInfo t, ModelConfig c, String arch) throws JtuneException {
        BlockFormat format = t.type().format();
        if (format == null) {
            throw new JtuneException(f.path() + ": tensor " + t.name() + " is " + t.type() + ", which jtune cannot compute with "
                    + "(F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K)");
        }
        if (t.rank() > 2) throw new JtuneException(f.path() + ": tensor " + t.name() + " has " + t.rank() + " dims; a decoder weight has 1 or 2");
        int cols = (int) t.dim(0), rows = t.rank() == 2 ? (int) t.dim(1) : 1;
        MemorySegment data = f.data(t);
        GgufNames.Rotary rotary = GgufNames.rotary(arch, t.name());
        if (rotary != GgufNames.Rotary.NONE && t.rank() == 2) {
            int heads = rotary == GgufNames.Rotary.QUERY ? c.numAttentionHeads() : c.numKeyValueHeads();
            int[] src;
            try {
                src = GgufNames.huggingFaceRowSources(rows, heads);
            } catch (IllegalArgumentException e) {
                throw new JtuneException(f.path() + ": tensor " + t.name() + ": " + e.getMessage(), e);
            }
            long rowBytes = format.rowBytes((long) cols);
            MemorySegment copy = org.jtune.tensor.NativeMemory.allocateLarge(rowBytes * rows);   // off-heap like the mapped rest (WeightQuantizer.encode says why)
            for (int r = 0; r < rows; r++) MemorySegment.copy(data, src[r] * rowBytes, copy, r * rowBytes, rowBytes);
            ResidentMemory.release(data);   // the mapping's rows are not read again: the copy is the tensor
            data = copy;
        }
        int[] shape = t.rank() == 2 ? new int[] {rows, cols} : new int[] {cols};
        if (t.type().isQuantized()) {
            if (t.rank() != 2) throw new JtuneException(f.path() + ": tensor " + t.name() + " is a quantized vector; jtune needs norms in F32/F16/BF16");
            return Tensor.blockQuantized(format, data, rows, cols);
        }
        return plain(f, t, data, shape);
    }

    /** F32, F16 or BF16 values of tensor t at data, in place. */
    private static Tensor plain(GgufFile f, GgufTensorInfo t, MemorySegment data, int[] shape) throws JtuneException {
        DType dtype = switch (t.type()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> throw new JtuneException(f.path() + ": tensor " + t.name() + " has type " + t.type());
        };
        return new Tensor(Storage.wrap(data), dtype, shape, Tensor.contiguousStrides(shape), 0);
    }

    /**
     * What a --model option (named {@code option} in errors) names, as a model folder: a folder (or null) as is; a GGUF
     * file is read (a damaged or hostile file fails here with the reader's named error) and {@link #describe}d.
     */
    public static Path asFolder(String option, Path model) throws JtuneException {
        if (model == null || !isGguf(model)) return model;
        if (!Files.isRegularFile(model)) throw new JtuneException(option + " " + model + ": no such GGUF file");
        try (GgufFile f = GgufReader.open(model)) {
            config(f); // a file of another architecture is refused before anything is written
            return describe(model, f);
        } catch (JtuneException e) {
            throw new JtuneException(option + " " + model + ": " + e.getMessage().replace(model + ": ", ""), e);
        }
    }

    /**
     * A new folder that describes {@code gguf} as a model folder: config.json (from the architecture's metadata),
     * tokenizer.json and tokenizer_config.json with the chat template (from the tokenizer metadata), and a
     * link {@value #LINK} to the file, whose tensors {@code Architectures.load} then maps. The folder is
     * removed when the JVM exits.
     */
    public static Path describe(Path gguf, GgufFile f) throws JtuneException {
        try {
            Path dir = Files.createTempDirectory("jtune-gguf-");
            Files.writeString(dir.resolve("config.json"), config(f).toJson(), StandardCharsets.UTF_8);
            GgufToTokenizer.write(f.metadata(), dir);
            Path link = dir.resolve(LINK);
            Files.createSymbolicLink(link, gguf.toAbsolutePath());
            try (var files = Files.list(dir)) {
                dir.toFile().deleteOnExit();
                for (Path p : files.toList()) p.toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new JtuneException(gguf + ": cannot describe the GGUF file as a model folder: " + e.getMessage(), e);
        }
    }
}
