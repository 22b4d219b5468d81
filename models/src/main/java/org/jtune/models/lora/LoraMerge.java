package org.jtune.models.lora;

import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.llama.LlamaModel;
import org.jtune.models.llama.LoraAdapter;
import org.jtune.models.llama.LoraLinear;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Folds attached adapters into the base weights: W' = W + scale·B·A, computed in F32 and stored in
 * the base weight's dtype; trainable token rows are written into embed_tokens. The adapters are then
 * removed, so the model computes the same function with plain weights. When the base was quantized,
 * the merge goes into the dequantized weights the adapter was trained against.
 */
public final class LoraMerge {
    private LoraMerge() {}

    public static void mergeInto(LlamaModel model) {
        for (LoraLinear lin : model.projections()) {
            LoraAdapter a = lin.adapter();
            if (a == null) continue;
            Tensor w = lin.weight().value();
            Tensor delta = Ops.matmul(a.b().value().to(DType.F32), a.a().value().to(DType.F32)); // (out, in)
            Tensor merged = Ops.add(w.to(DType.F32), Ops.scale(delta, a.scale()));
            lin.setWeight(Variable.constant(w.dtype() == DType.F32 ? merged : merged.to(w.dtype())).named(lin.name()));
            lin.setAdapter(null);
        }
        TrainableRows rows = model.trainableTokens();
        if (rows != null) {
            Tensor table = model.embedTokens().value();
            Tensor copy = table.copy();
            Tensor values = rows.values().value();
            for (int r = 0; r < rows.tokenIds().length; r++) Ops.copyInto(values.select(0, r), copy.select(0, rows.tokenIds()[r]));
            model.replaceWeight("model.embed_tokens.weight", Variable.constant(copy).named("model.embed_tokens.weight"));
            model.setTrainableTokens(null);
        }
    }
}
