package org.jtune.models.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.CrossEntropy;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A 2-layer Llama-shaped model with tiny dimensions (GQA 2:1) memorises one fixed batch with plain SGD. */
class OverfitTest {
    @Test
    void tinyLlamaOverfitsOneBatch() throws Exception {
        LlamaConfig config = LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(32).intermediateSize(64)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).ropeTheta(10000).rmsNormEps(1e-5)
                .tieWordEmbeddings(false).maxPositionEmbeddings(64).vocabSize(50).bosTokenIds(List.of(1)).eosTokenIds(List.of(2))
                .torchDtype("float32").build();
        Rng rng = new Rng(4);
        CausalLM model = Architectures.random(config, rng, 0.1f);
        Map<String, Variable> params = new LinkedHashMap<>();
        for (Weight w : model.weights().all()) {
            Variable p = Variable.parameter(w.value().value());
            w.set(p);
            params.put(w.name(), p);
        }
        int b = 4, t = 12;
        int[] ids = new int[b * t], targets = new int[b * t], pos = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 3 + rng.nextInt(47);
            pos[i] = i % t;
        }
        for (int i = 0; i < ids.length; i++) targets[i] = (i % t == t - 1) ? -100 : ids[i + 1];
        float first = 0, last = 0;
        for (int step = 0; step < 300; step++) {
            Variable logits = model.logits(model.hidden(Tensor.ofInts(ids, b, t), Tensor.ofInts(pos, b, t),
                    ForwardPass.of(AttentionMask.causalMask()))).reshape(b * t, 50);
            Variable loss = CrossEntropy.apply(logits, Tensor.ofInts(targets, b * t), -100, b * (t - 1));
            loss.backward();
            if (step == 0) first = loss.value().item();
            last = loss.value().item();
            for (Variable p : params.values()) { // SGD, lr 0.5
                Tensor g = p.grad();
                org.jtune.tensor.Ops.addInPlace(p.value(), org.jtune.tensor.Ops.scale(g, -0.5f));
                p.zeroGrad();
            }
            if (last < 0.01f * first) break;
        }
        assertTrue(last < 0.01f * first, "loss " + first + " -> " + last);
    }
}
