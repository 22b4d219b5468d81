package org.jtune.models;

import java.util.List;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.tensor.Rng;

/** Small random Llama models for tests that exercise mechanics, not a pretrained function. */
public final class TinyModels {
    private TinyModels() {}

    /** 2 layers, GQA 4:2, head 8, vocab 61, context 64; odd sizes so vector tails are exercised. */
    public static LlamaConfig config(int layers) {
        return LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(32).intermediateSize(45)
                .numHiddenLayers(layers).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).ropeTheta(10000).rmsNormEps(1e-5)
                .tieWordEmbeddings(false).maxPositionEmbeddings(64).vocabSize(61).bosTokenIds(List.of(1)).eosTokenIds(List.of(2))
                .torchDtype("float32").build();
    }

    public static CausalLM random(long seed) {
        return Architectures.random(config(2), new Rng(seed), 0.3f);
    }
}
