package org.jtune.models.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtune.JtuneException;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.config.RopeScaling;
import org.jtune.models.gemma3.Gemma3Config;
import org.jtune.models.qwen2.Qwen2Config;
import org.jtune.models.io.QuantizedCheckpoint;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.weights.WeightSource;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufValue;
import org.jtune.quant.gguf.GgufWriter;
import org.jtune.quant.gguf.GgufNames;
import org.jtune.tensor.Tensor;

/**
 * Writes a Hugging Face Llama/Mistral/Mixtral, Granite, Qwen2/Qwen2.5, Qwen3, Qwen3-MoE or Gemma 3 (text) folder (config.json, safetensors,
 * tokenizer.json) as a GGUF file llama.cpp loads: the hyper-parameters of its GGUF architecture ({@link #hyperparameters}:
 * llama, granite (its multipliers as keys), qwen2, qwen3, qwen3moe, gemma3; a mixture's experts stacked per layer, {@link GgufNames#expertSlice}; Gemma 3's norms stored as 1 + weight, {@link GgufNames#normShift}), tokenizer metadata ({@link TokenizerToGguf}), tensors renamed by {@link GgufNames} (q/k rows
 * permuted for the llama graph's rotary layout), and converted to the chosen type with ggml's reference
 * quantizers; a Llama checkpoint's RoPE scaling goes with it ({@link GgufRopeScaling}: linear as keys, Llama 3's as
 * rope_freqs). What llama.cpp's graph for the architecture would not compute as the checkpoint does (Phi-3's
 * LongRoPE, a Qwen sliding window or RoPE scaling, Qwen3 attention biases, a Qwen3-MoE with dense layers or weights not
 * rescaled) is refused, naming it. Type per tensor, as llama.cpp's quantizer chooses it:
 * <ul>
 * <li>1-D tensors (norms) and a mixture's router (ffn_gate_inp, which llama.cpp's quantizer never quantizes) stay F32;</li>
 * <li>the output matrix — or the token embedding when it is tied to the output — becomes Q6_K for
 *     Q4_0/Q4_K (Q8_0 when its rows are not whole 256-blocks), as llama_tensor_get_type does;</li>
 * <li>Q4_K is llama.cpp's Q4_K_M mixture: attn_v and ffn_down of the layers where use_more_bits(i, n) holds
 *     (the first and last eighth, and every third layer between) become Q6_K, and so does a mixture's ffn_down_exps;</li>
 * <li>a matrix whose rows are not whole blocks of the type falls back: Q8_0/Q4_0 → F16; Q4_K → Q8_0 (llama.cpp
 *     picks Q5_0, which jtune does not implement) or F16 when not even 32 divides the row (stories260K's
 *     ffn_down, rows of 172).</li>
 * </ul>
 * The prompt format goes with the weights: the folder's chat template as tokenizer.chat_template
 * ({@link TokenizerToGguf}), and the system message it was trained with (tokenizer_config.json's
 * training_system_message, see PromptFormat) as {@value #SYSTEM_MESSAGE_KEY}, a jtune key since GGUF has no
 * standard one; {@link GgufToTokenizer} reads it back. The file is written atomically. `jtune export gguf`
 * (cli ExportCommand) calls {@link #export}.
 */
public final class HfToGguf {
    /** The metadata key of the system message the model was trained with ("" = training dropped the data's). */
    public static final String SYSTEM_MESSAGE_KEY = "jtune.system_message";

    private HfToGguf() {}

    /** llama_ftype of a target type (general.file_type). */
    static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 15;       // MOSTLY_Q4_K_M in spirit: q4_k with q6_k output
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException(t + " is not a GGUF export type");
        };
    }

    /** llama.cpp's use_more_bits: the layers Q4_K_M gives 6 bits in attn_v and ffn_down. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** The type a tensor is stored as when the file's type is target. */
    static GgmlType tensorType(String ggufName, long[] dims, GgmlType target, boolean tiedEmbeddings, int layers) {
        if (dims.length < 2 || ggufName.endsWith(".ffn_gate_inp.weight")) return GgmlType.F32;
        long cols = dims[0];
        GgmlType t = target;
        boolean output = ggufName.equals("output.weight") || (tiedEmbeddings && ggufName.equals("token_embd.weight"));
        if (output && (target == GgmlType.Q4_0 || target == GgmlType.Q4_K)) t = cols % 256 == 0 ? GgmlType.Q6_K : GgmlType.Q8_0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("blk\\.(\\d+)\\.(attn_v|ffn_down|ffn_down_exps)\\.weight").matcher(ggufName);
        if (target == GgmlType.Q4_K && m.matches() && useMoreBits(Integer.parseInt(m.group(1)), layers)) t = GgmlType.Q6_K;
        if (cols % t.blockSize() == 0) return t;
        if (t == GgmlType.Q4_K || t == GgmlType.Q6_K) return cols % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16;
        return GgmlType.F16;
    }

    /** Exports modelDir to out with tensors of type (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K), with the folder's recorded system message. */
    public static void export(Path modelDir, GgmlType type, Path out) throws JtuneException {
        export(modelDir, type, out, PromptFormat.recordedSystemMessage(modelDir));
    }

    /** As {@link #export(Path, GgmlType, Path)}, recording {@code systemMessage} (null: none) as {@value #SYSTEM_MESSAGE_KEY}. */
    public static void export(Path modelDir, GgmlType type, Path out, String systemMessage) throws JtuneException {
        if (type.format() == null) throw new JtuneException(type + " cannot be written by jtune");
        fileType(type);
        ModelConfig config = Architectures.readConfig(modelDir);
        GgufNames.Hyperparameters hyper = hyperparameters(config, modelDir);
        String arch = hyper.architecture();
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.string(arch));
        meta.put("general.name", GgufValue.string(modelDir.toAbsolutePath().getFileName().toString()));
        meta.putAll(hyper.toMetadata());
        RopeScaling scaling = switch (config) {
            case LlamaConfig l -> l.ropeScaling();
            case Gemma3Config g -> g.ropeScaling();   // its global layers'; the local ones are plain
            default -> null;
        };
        meta.putAll(GgufRopeScaling.metadata(arch, scaling));
        if (config.moe() != null) {
            MoeConfig moe = config.moe();
            meta.putAll(new GgufNames.Experts(moe.numExperts(), moe.expertsPerToken(), moe.expertIntermediateSize()).toMetadata(arch));
        }
        float[] ropeFreqs = config instanceof LlamaConfig ? GgufRopeScaling.ropeFreqs(scaling, config.headDim(), config.ropeTheta()) : null;
        if (config instanceof Gemma3Config g) meta.put(arch + ".attention.sliding_window", GgufValue.u32(g.slidingWindowSize()));
        if (config instanceof LlamaConfig l && l.granite() != null) {
            meta.put(arch + GgufNames.ATTENTION_SCALE, GgufValue.f32((float) l.granite().attention()));
            meta.put(arch + GgufNames.EMBEDDING_SCALE, GgufValue.f32((float) l.granite().embedding()));
            meta.put(arch + GgufNames.RESIDUAL_SCALE, GgufValue.f32((float) l.granite().residual()));
            meta.put(arch + GgufNames.LOGIT_SCALE, GgufValue.f32((float) l.granite().logits()));
        }
        meta.put("general.file_type", GgufValue.u32(fileType(type)));
        if (type.isQuantized()) meta.put("general.quantization_version", GgufValue.u32(2));
        meta.putAll(TokenizerToGguf.fromModelFolder(modelDir));
        if (systemMessage != null) meta.put(SYSTEM_MESSAGE_KEY, GgufValue.string(systemMessage));
        GgufWriter writer = new GgufWriter().putAll(meta);
        try (SafetensorsReader reader = SafetensorsReader.open(modelDir)) {
            WeightSource source = QuantizedCheckpoint.decode(reader);   // a `jtune quantize` folder: its U8 rows as the matrices they hold
            List<String[]> names = new ArrayList<>();
            Map<String, String[]> stacks = new LinkedHashMap<>();   // a stacked expert tensor → its experts' Hugging Face names
            for (String hf : reader.names()) {
                Optional<GgufNames.ExpertSlice> slice = GgufNames.expertSlice(arch, hf);
                if (slice.isPresent()) {
                    String[] experts = stacks.computeIfAbsent(slice.get().gguf(), k -> new String[config.moe().numExperts()]);
                    if (slice.get().expert() >= experts.length) throw new JtuneException(modelDir + ": tensor " + hf + " is beyond the config's "
                            + experts.length + " experts");
                    experts[slice.get().expert()] = hf;
                    continue;
                }
                Optional<String> gguf = GgufNames.toGguf(arch, hf);
                if (gguf.isEmpty()) {
                    if (hf.endsWith("rotary_emb.inv_freq")) continue;
                    throw new JtuneException(modelDir + ": tensor " + hf + " has no GGUF name in the " + arch + " layout");
                }
                names.add(new String[] {hf, gguf.get()});
            }
            for (Map.Entry<String, String[]> stack : stacks.entrySet()) {
                for (int e = 0; e < stack.getValue().length; e++) {
                    if (stack.getValue()[e] == null) throw new JtuneException(modelDir + ": " + stack.getKey() + " lacks expert " + e + "'s matrix");
                }
                names.add(new String[] {null, stack.getKey()});
            }
            names.sort(Comparator.comparingInt((String[] n) -> order(n[1])).thenComparing(n -> n[1]));
            for (String[] n : names) {
                if (n[0] == null) {
                    addStack(writer, source, n[1], stacks.get(n[1]), type, config);
                    continue;
                }
                Tensor t = source.get(n[0]);
                int[] shape = t.shape();
                long[] dims = new long[shape.length];
                for (int i = 0; i < shape.length; i++) dims[i] = shape[shape.length - 1 - i];
                GgmlType tt = tensorType(n[1], dims, type, config.tieWordEmbeddings(), config.numHiddenLayers());
                GgufNames.Rotary rotary = GgufNames.rotary(arch, n[1]);
                int heads = rotary == GgufNames.Rotary.QUERY ? config.numAttentionHeads() : config.numKeyValueHeads();
                writer.addTensor(n[1], tt, dims, channel -> {
                    float[] values;
                    try {
                        values = source.get(n[0]).toFloatArray();
                    } catch (JtuneException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                    int rows = shape.length == 0 ? 1 : shape[0];
                    int cols = (int) (values.length / Math.max(1, rows));
                    if (rotary != GgufNames.Rotary.NONE) {
                        values = GgufNames.permuteRows(values, rows, cols, GgufNames.ggufRowSources(rows, heads));
                    }
                    float shift = GgufNames.normShift(arch, n[0]);
                    if (shift != 0) for (int i = 0; i < values.length; i++) values[i] += shift;
                    if (dims.length < 2) {
                        rows = 1;
                        cols = values.length;
                    }
                    BlockFormat f = tt.format();
                    long rowBytes = f.rowBytes(cols);
                    byte[] row = new byte[(int) rowBytes];
                    MemorySegment seg = MemorySegment.ofArray(row);
                    for (int r = 0; r < rows; r++) {
                        f.quantizeRow(values, r * cols, seg, 0, cols);
                        ByteBuffer b = ByteBuffer.wrap(row);
                        while (b.hasRemaining()) channel.write(b);
                    }
                });
            }
            if (ropeFreqs != null) {
                writer.addTensor(GgufRopeScaling.FREQS, GgmlType.F32, new long[] {ropeFreqs.length}, MemorySegment.ofArray(ropeFreqs));
            }
            writer.write(out);
        }
    }

    /** One stacked expert tensor, ne = [in, out, experts]: each expert's matrix in turn, quantized row by row. */
    private static void addStack(GgufWriter writer, WeightSource source, String gguf, String[] experts, GgmlType type, ModelConfig config)
            throws JtuneException {
        int[] shape = source.get(experts[0]).shape();
        long[] dims = {shape[1], shape[0], experts.length};
        GgmlType tt = tensorType(gguf, dims, type, config.tieWordEmbeddings(), config.numHiddenLayers());
        writer.addTensor(gguf, tt, dims, channel -> {
            BlockFormat f = tt.format();
            byte[] row = new byte[(int) f.rowBytes(shape[1])];
            MemorySegment seg = MemorySegment.ofArray(row);
            for (String hf : experts) {
                float[] values;
                try {
                    Tensor t = source.get(hf);
                    if (!java.util.Arrays.equals(t.shape(), shape)) {
                        throw new JtuneException(hf + " is " + java.util.Arrays.toString(t.shape()) + ", not " + java.util.Arrays.toString(shape)
                                + " as the other experts of " + gguf);
                    }
                    values = t.toFloatArray();
                } catch (JtuneException e) {
                    throw new IOException(e.getMessage(), e);
                }
                for (int r = 0; r < shape[0]; r++) {
                    f.quantizeRow(values, r * shape[1], seg, 0, shape[1]);
                    ByteBuffer b = ByteBuffer.wrap(row);
                    while (b.hasRemaining()) channel.write(b);
                }
            }
        });
    }

    /**
     * The GGUF hyper-parameters of a checkpoint's config, under its GGUF architecture: llama for Llama/Mistral/Mixtral,
     * granite, qwen2, qwen3 and qwen3moe for the Qwen families, gemma3; an error naming what llama.cpp's graph for it would compute differently.
     */
    static GgufNames.Hyperparameters hyperparameters(ModelConfig config, Path modelDir) throws JtuneException {
        String why = null, arch = null;
        switch (config) {
            case LlamaConfig l -> {
                arch = l.granite() != null ? GgufNames.GRANITE : GgufNames.LLAMA;
                if (l.noRopeLayers() != null) why = "SmolLM3's layers without RoPE are not written to GGUF by jtune (llama.cpp's smollm3 graph)";
            }
            case Qwen2Config q -> {
                arch = switch (q.architecture()) {
                    case Qwen2Config.QWEN3 -> GgufNames.QWEN3;
                    case Qwen2Config.QWEN3_MOE -> GgufNames.QWEN3MOE;
                    default -> GgufNames.QWEN2;
                };
                MoeConfig moe = q.moe();
                if (moe != null && !moe.normalizeTopK()) why = "norm_topk_prob is false, and llama.cpp's qwen3moe graph always rescales the chosen experts' weights";
                for (int l = 0; l < q.numHiddenLayers() && moe != null && why == null; l++) {
                    if (!moe.sparse(l)) why = "layer " + l + " has a dense MLP (mlp_only_layers, decoder_sparse_step), and llama.cpp's qwen3moe graph has experts in every layer";
                }
                for (int l = 0; l < q.numHiddenLayers() && why == null; l++) {
                    if (q.layerWindow(l) != 0) why = "layer " + l + " attends within a sliding window of " + q.layerWindow(l)
                            + " tokens, which llama.cpp's " + arch + " graph does not apply";
                }
                if (q.ropeScaling() != null) why = "rope_scaling " + q.ropeScaling().type() + " is not written to GGUF by jtune";
                if (q.outputBias()) why = "attention_bias is true, and llama.cpp's qwen3 graph has no attention biases";
            }
            case Gemma3Config g -> {
                arch = GgufNames.GEMMA3;
                // llama.cpp's gemma3 graph fixes what Gemma3TextConfig leaves open: every sixth layer global, local RoPE base 10^4,
                // attention scaled by head_dim (the 27B's hidden/heads aside), no soft-capping
                if (!g.layerTypes().equals(Gemma3Config.patternLayers(g.numHiddenLayers(), 6))) {
                    why = "layer_types are not every sixth layer global, which llama.cpp's gemma3 graph assumes";
                } else if (g.ropeLocalBaseFreq() != 10_000.0) {
                    why = "rope_local_base_freq " + g.ropeLocalBaseFreq() + " is not the 10000 llama.cpp's gemma3 graph uses";
                } else if (g.queryPreAttnScalar() != g.headDim()) {
                    why = "query_pre_attn_scalar " + g.queryPreAttnScalar() + " is not head_dim (" + g.headDim() + "), as llama.cpp's gemma3 graph takes it";
                } else if (g.finalLogitSoftcapping() != null) {
                    why = "final_logit_softcapping is set, and llama.cpp's gemma3 graph has none";
                } else if (g.ropeScaling() != null && !(g.ropeScaling() instanceof RopeScaling.Linear)) {
                    why = "rope_scaling " + g.ropeScaling().type() + " is not linear, the only one llama.cpp's gemma3 graph applies";
                }
            }
            default -> why = config.architecture() + " has no GGUF layout in jtune (llama, granite, qwen2, qwen3, qwen3moe and gemma3 are written)";
        }
        if (why != null) throw new JtuneException(modelDir + ": cannot export to GGUF: " + why);
        return new GgufNames.Hyperparameters(arch, config.maxPositionEmbeddings(), config.hiddenSize(), config.numHiddenLayers(),
                config.intermediateSize(), config.numAttentionHeads(), config.numKeyValueHeads(), (float) config.ropeTheta(),
                (float) config.rmsNormEps(), config.headDim(), config.vocabSize(), config.headDim());
    }

    /** llama.cpp's tensor order: token embedding, blocks, output norm, output. */
    private static int order(String gguf) {
        if (gguf.startsWith("token_embd")) return 0;
        if (gguf.startsWith("blk.")) return 1 + Integer.parseInt(gguf.substring(4, gguf.indexOf('.', 4)));
        return Integer.MAX_VALUE - (gguf.startsWith("output_norm") ? 1 : 0);
    }
}
