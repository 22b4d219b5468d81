package org.jtune.models.nf4;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.io.AtomicFile;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.io.StrictJson;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.models.weights.WeightSource;
import org.jtune.models.weights.WeightTable;
import org.jtune.quant.nf4.Nf4Codec;
import org.jtune.quant.nf4.Nf4Tensor;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * Hugging Face folders with NF4 weights in bitsandbytes' layout ({@link BnbNf4Checkpoint}):
 * <ul>
 * <li>{@link #write} quantizes a model's linear projections (every {@code *_proj.weight} LoRA may target;
 *     embeddings, norms and the LM head stay as they are, as transformers' bitsandbytes integration keeps
 *     them) and writes a folder transformers + bitsandbytes would load: the packed tensors and quant
 *     states, and config.json with its {@code quantization_config};</li>
 * <li>{@link #blocks} reads such a checkpoint as NF4 block tensors for the model (4-bit in memory);
 *     {@link #quantize} turns a loaded model's projections into NF4 (QLoRA's quantize on load);</li>
 * <li>{@link #dequantized} reads such a checkpoint as plain F32 tensors under the weights' own names
 *     (the companion tensors hidden): the "dequantized F32 form" of a 4-bit checkpoint.</li>
 * </ul>
 */
public final class Nf4Checkpoints {
    /** Files of a model folder copied as they are beside the weights. */
    private static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "chat_template.jinja", "tokenizer.model");

    private Nf4Checkpoints() {}

    /** Loads {@code modelDir}, quantizes its projections to NF4 and writes a bitsandbytes-layout folder {@code out}. */
    public static Set<String> write(Path modelDir, Path out, boolean doubleQuant) throws JtuneException {
        Set<String> quantized = new TreeSet<>();
        try (CausalLM model = Architectures.load(modelDir)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Set<String> projections = new TreeSet<>();
            for (LoraLinear p : model.weights().projections()) projections.add(p.name());
            for (Map.Entry<String, Variable> e : model.weights().named().entrySet()) {
                Tensor t = e.getValue().value();
                if (projections.contains(e.getKey()) && t.shape().length == 2) {
                    Nf4Tensor q = quantize(t, doubleQuant);
                    tensors.putAll(BnbNf4Checkpoint.tensorsOf(e.getKey(), q, torchName(t.dtype())));
                    quantized.add(e.getKey());
                } else {
                    tensors.put(e.getKey(), t);
                }
            }
            Files.createDirectories(out);
            new SafetensorsWriter(Map.of("format", "pt"), null, SafetensorsWriter.DEFAULT_MAX_SHARD_BYTES, false).writeModel(out, tensors);
        } catch (IOException e) {
            throw new JtuneException(out + ": cannot write: " + e.getMessage(), e);
        }
        writeConfig(modelDir, out, QuantizationConfig.nf4(doubleQuant));
        for (String f : SIDE_FILES) {
            Path src = modelDir.resolve(f);
            if (Files.isRegularFile(src)) {
                try {
                    AtomicFile.copy(src, out.resolve(f));
                } catch (IOException e) {
                    throw new JtuneException(out.resolve(f) + ": cannot copy " + src + ": " + e.getMessage(), e);
                }
            }
        }
        return quantized;
    }

    /** NF4 of a 2-D floating tensor, read row by row (F32/F16/BF16, any layout). */
    public static Nf4Tensor quantize(Tensor t, boolean doubleQuant) {
        int rows = t.shape()[0], cols = t.shape()[1];
        return Nf4Tensor.quantize((r, dst, off) -> {
            float[] row = t.narrow(0, r, 1).toFloatArray();
            System.arraycopy(row, 0, dst, off, cols);
        }, rows, cols, Nf4Tensor.DEFAULT_BLOCK_SIZE, doubleQuant);
    }

    /**
     * A source whose NF4 weights read as {@link org.jtune.tensor.DType#BLOCK} tensors over the checkpoint's
     * codes (no copy, no full-precision value), the companion tensors hidden: how {@code Architectures.load}
     * reads a 4-bit folder.
     */
    public static WeightSource blocks(WeightSource source) throws JtuneException {
        return view(source, q -> Nf4Codec.tensor(q));
    }

    /** A source whose NF4 weights read as their dequantized F32 values, the companion tensors hidden. */
    public static WeightSource dequantized(WeightSource source) throws JtuneException {
        return view(source, q -> Tensor.of(q.dequantizeAll(), q.rows(), q.cols()));
    }

    /**
     * Quantize on load (QLoRA, {@code --quantize nf4}): every projection (role LINEAR, an even number of
     * columns) not already block-quantized becomes NF4 in blocks of 64, its full-precision value dropped.
     * Embeddings, norms and a tied or untied LM head keep their stored dtype. Returns the names quantized.
     */
    public static List<String> quantize(WeightTable table, boolean doubleQuant) {
        List<String> done = new java.util.ArrayList<>();
        for (Weight w : table.all()) {
            if (w.role() != Weight.Role.LINEAR) continue;
            Tensor t = w.value().value();
            if (t.dtype() == DType.BLOCK || t.rank() != 2 || t.size(1) % 2 != 0) continue;
            w.set(Variable.constant(Nf4Codec.tensor(quantize(t, doubleQuant))));
            done.add(w.name());
        }
        return done;
    }

    private interface View {
        Tensor of(Nf4Tensor q);
    }

    private static WeightSource view(WeightSource source, View view) throws JtuneException {
        Set<String> quantized = BnbNf4Checkpoint.quantizedNames(source);
        Set<String> names = new TreeSet<>();
        for (String n : source.names()) if (!BnbNf4Checkpoint.isCompanion(n, quantized)) names.add(n);
        return new WeightSource() {
            public Tensor get(String name) throws JtuneException {
                if (!quantized.contains(name)) return source.get(name);
                return view.of(BnbNf4Checkpoint.read(source, name));
            }

            public Set<String> names() {
                return names;
            }

            public String origin() {
                return source.origin();
            }
        };
    }

    private static void writeConfig(Path modelDir, Path out, QuantizationConfig q) throws JtuneException {
        Path file = modelDir.resolve("config.json");
        try {
            JsonNode root = StrictJson.mapper().readTree(Files.readString(file));
            if (!(root instanceof ObjectNode obj)) throw new JtuneException(file + ": config is not a JSON object");
            obj.set("quantization_config", StrictJson.mapper().readTree(q.toJson()));
            AtomicFile.writeString(out.resolve("config.json"), StrictJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(obj));
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read config: " + e.getMessage(), e);
        }
    }

    private static String torchName(DType d) {
        return switch (d) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
    }
}
