package org.jtune.models.weights;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.quant.GgmlType;
import org.jtune.tensor.BlockCodec;

/**
 * The quantization types the CLI offers ({@code --quantize q8_0|q4_0|q4_k}, {@code jtune quantize --type}) and
 * their application to a loaded model: every projection's rows encoded with ggml's reference quantizer of the
 * type ({@link WeightQuantizer}). Q4_K needs rows of whole 256-element blocks; a projection whose rows are not
 * falls back to Q8_0 (llama.cpp falls back too, to Q5_0, which jtune does not implement), and one whose rows
 * are not whole 32-element blocks either keeps its stored dtype.
 */
public final class QuantizeOnLoad {
    /** The names accepted, in the order the help lists them. */
    public static final List<String> TYPES = List.of("q8_0", "q4_0", "q4_k", "nf4");

    private QuantizeOnLoad() {}

    /**
     * The codec a type name means; a named error for any other name. Null for nf4, whose codec is bound to
     * each matrix (its blocks and double-quantized absmax span rows: {@link org.jtune.quant.nf4.Nf4Codec}).
     */
    public static BlockCodec codec(String type) throws JtuneException {
        if (type == null || !TYPES.contains(type.toLowerCase(java.util.Locale.ROOT))) {
            throw new JtuneException("--quantize " + type + ": unknown type; use one of " + String.join(", ", TYPES));
        }
        if (type.equalsIgnoreCase("nf4")) return null;
        return GgmlType.byName(type).format();
    }

    /**
     * Quantizes the projections of {@code model} in place; returns what each became. nf4 is QLoRA's NF4 with
     * double quantization (bitsandbytes' semantics), the same base QLoRA training quantizes.
     */
    public static List<WeightQuantizer.Result> apply(CausalLM model, String type) throws JtuneException {
        BlockCodec codec = codec(type);
        if (codec == null) {
            java.util.Set<String> done = new java.util.HashSet<>(org.jtune.models.nf4.Nf4Checkpoints.quantize(model.weights(), true));
            List<WeightQuantizer.Result> out = new java.util.ArrayList<>();
            for (org.jtune.models.lora.LoraLinear p : model.weights().projections()) {
                Weight w = p.base();
                boolean nf4 = done.contains(w.name()) || w.value().value().blockCodec() instanceof org.jtune.quant.nf4.Nf4Codec;
                out.add(new WeightQuantizer.Result(w.name(), nf4 ? "nf4" : w.value().value().blockCodec() == null ? null : w.value().value().blockCodec().name()));
            }
            return out;
        }
        BlockCodec fallback = codec == GgmlType.Q4_K.format() ? GgmlType.Q8_0.format() : null;
        return WeightQuantizer.quantize(model.weights(), codec, fallback);
    }
}
