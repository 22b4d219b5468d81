package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The trainer's loss in chunks of rows gives the loss and every trainable gradient of the whole-batch loss, on a model
 * with a tied head (the embedding is also the head) and with an untied one, LoRA on all linear layers, with ignored
 * targets, in chunks that divide the rows and chunks that do not.
 */
class TokenLossTest {
    private static final int B = 2, T = 37;

    private static float[][] lossAndGrads(boolean tied, boolean fullFineTune, int chunkRows) {
        LlamaConfig config = LlamaConfig.builder().hiddenSize(64).intermediateSize(96).numHiddenLayers(2).numAttentionHeads(4)
                .numKeyValueHeads(2).vocabSize(300).maxPositionEmbeddings(64).tieWordEmbeddings(tied).build();
        CausalLM model = Architectures.random(config, new Rng(3), 0.05f);
        List<Variable> trainable = new ArrayList<>();
        if (fullFineTune) {
            for (var w : model.weights().all()) {
                Variable p = Variable.parameter(w.value().value());
                w.set(p);
                trainable.add(p);
            }
        } else {
            trainable.addAll(LoraAdapters.attach(model, Adapters.DEFAULT, new LoraConfig(4, 8f, 0f, List.of("all-linear"), false, List.of()),
                    new Rng(4), false).values());
        }
        Rng rng = new Rng(5);
        int[] ids = new int[B * T], pos = new int[B * T], targets = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(300);
            pos[i] = i % T;
            targets[i] = i % 5 == 2 ? -100 : rng.nextInt(300);
        }
        Variable hidden = model.hidden(Tensor.ofInts(ids, B, T), Tensor.ofInts(pos, B, T),
                ForwardPass.training(AttentionMask.causalMask(), null, true));
        Variable loss = FineTune.tokenLoss(model, hidden, Tensor.ofInts(targets, B, T), 60f, chunkRows);
        loss.backward();
        float[][] out = new float[trainable.size() + 1][];
        out[0] = new float[] {loss.value().item()};
        for (int i = 0; i < trainable.size(); i++) out[i + 1] = trainable.get(i).grad().toFloatArray();
        return out;
    }

    @Test
    void chunkedLossHasTheWholeBatchLossAndGradients() {
        for (boolean tied : new boolean[] {true, false}) {
            for (boolean full : new boolean[] {false, true}) {
                float[][] whole = lossAndGrads(tied, full, Integer.MAX_VALUE);
                for (int chunk : new int[] {16, 37, 50}) {
                    float[][] chunked = lossAndGrads(tied, full, chunk);
                    assertEquals(whole.length, chunked.length);
                    for (int i = 0; i < whole.length; i++) {
                        float scale = 1e-30f;
                        for (float v : whole[i]) scale = Math.max(scale, Math.abs(v));
                        assertArrayEquals(whole[i], chunked[i], 2e-5f * scale, "tied " + tied + " full " + full + " chunk " + chunk + " tensor " + i);
                    }
                }
            }
        }
    }
}
