package org.jtune.models.lora;

import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Folds an adapter into the base weights: W' = W + scale·B·A, computed in F32 and stored in the base
 * weight's dtype; with DoRA (Liu et al. 2024, as PEFT merges it) each row of W + scale·B·A is then rescaled to its
 * magnitude m: W' = m / ‖W + scale·B·A‖_row · (W + scale·B·A). Its trainable token rows are written into embed_tokens. The adapter is then
 * unloaded, so the model computes the same function with plain weights (for every request: merged
 * weights are shared). When the base was quantized, the merge goes into the dequantized weights
 * the adapter was trained against.
 */
public final class LoraMerge {
    private LoraMerge() {}

    public static void mergeInto(CausalLM model, String adapter) {
        Adapters adapters = model.adapters();
        Adapters.Info info = adapters.get(adapter);
        for (var e : adapters.pairs(adapter).entrySet()) {
            Weight w = model.weights().get(e.getKey());
            LoraPair p = e.getValue();
            Tensor base = w.value().value();
            Tensor delta = Ops.matmul(p.b().value().to(DType.F32), p.a().value().to(DType.F32)); // (out, in)
            Tensor merged = Ops.add(base.to(DType.F32), Ops.scale(delta, p.scale()));
            if (p.magnitude() != null) merged = rescaleRows(merged, p.magnitude().value().to(DType.F32));
            w.set(Variable.constant(base.dtype() == DType.F32 || base.dtype() == DType.BLOCK ? merged : merged.to(base.dtype()))); // a quantized base: F32
        }
        TrainableRows rows = info.tokens();
        if (rows != null) {
            Weight embed = model.weights().embedding();
            Tensor copy = embed.value().value().copy();
            Tensor values = rows.values().value();
            for (int r = 0; r < rows.tokenIds().length; r++) Ops.copyInto(values.select(0, r), copy.select(0, rows.tokenIds()[r]));
            embed.set(Variable.constant(copy));
        }
        adapters.remove(adapter);
    }

    /** Each row i of w (out, in) scaled to length m[i] (its norm taken in double); a zero row stays zero. */
    static Tensor rescaleRows(Tensor w, Tensor m) {
        int out = w.size(0), in = w.size(1);
        float[] v = w.contiguous().toFloatArray(), mags = m.toFloatArray();
        for (int i = 0; i < out; i++) {
            double sq = 0;
            for (int k = 0; k < in; k++) sq += (double) v[i * in + k] * v[i * in + k];
            if (sq == 0) continue;
            double f = mags[i] / Math.sqrt(sq);
            for (int k = 0; k < in; k++) v[i * in + k] = (float) (v[i * in + k] * f);
        }
        return Tensor.of(v, out, in);
    }
}
