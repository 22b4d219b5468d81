package org.jtune.models.nf4;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.ModelExport;
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
    private Nf4Checkpoints() {}

    /** Loads {@code modelDir}, quantizes its projections to NF4 and writes a bitsandbytes-layout folder {@code out}. */
    public static Set<String> write(Path modelDir, Path out, boolean doubleQuant) throws JtuneException {
        try (CausalLM model = Architectures.load(modelDir)) {
            Set<String> quantized = new TreeSet<>(quantize(model.weights(), doubleQuant));
            save(model, modelDir, out, doubleQuant);
            return quantized;
        }
    }

    /**
     * Writes {@code model} (its NF4 projections in bitsandbytes' layout, every other weight as stored) with
     * config.json's quantization_config and the tokenizer files of {@code sourceDir} into {@code out}
     * (staged: nothing is half-written).
     */
    public static void save(CausalLM model, Path sourceDir, Path out, boolean doubleQuant) throws JtuneException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Variable> e : model.weights().named().entrySet()) {
            Tensor t = e.getValue().value();
            Nf4Tensor q = t.dtype() == DType.BLOCK ? Nf4Codec.of(t) : null;
            if (t.dtype() == DType.BLOCK && q == null) {
                throw new JtuneException(e.getKey() + ": a " + t.blockCodec().name() + " matrix cannot be written in bitsandbytes' NF4 layout");
            }
            if (q != null) tensors.putAll(BnbNf4Checkpoint.tensors(e.getKey(), q, "float32"));
            else tensors.put(e.getKey(), t);
        }
        Map<String, Object> qc = new LinkedHashMap<>();
        qc.put("quant_method", "bitsandbytes");
        qc.put("load_in_4bit", true);
        qc.put("load_in_8bit", false);
        qc.put("bnb_4bit_quant_type", "nf4");
        qc.put("bnb_4bit_use_double_quant", doubleQuant);
        qc.put("bnb_4bit_compute_dtype", "float32");
        qc.put("bnb_4bit_quant_storage", "uint8");
        ModelExport.saveTensors(model, tensors, Map.of("format", "pt"), sourceDir, out, qc);
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
     * Quantize on load (QLoRA, {@code --quantize nf4}): every projection of the transformer blocks (the
     * table's LoRA targets, with an even number of columns) not already block-quantized becomes NF4 in blocks
     * of 64, its full-precision value dropped. Embeddings, norms and a tied or untied LM head keep their
     * stored dtype, as bitsandbytes-based QLoRA keeps them. Returns the names quantized.
     */
    public static List<String> quantize(WeightTable table, boolean doubleQuant) {
        List<String> done = new java.util.ArrayList<>();
        for (org.jtune.models.lora.LoraLinear p : table.projections()) { // not an untied lm_head: it stays as stored
            Weight w = p.base();
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
}
