package org.jtune.models.llama;

import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.RopeScaling;
import org.jtune.tensor.Tensor;

/** The (headDim/2) RoPE inverse frequencies of a config: its rope_scaling mapped onto the tensor module's formulas. */
final class RopeFrequencies {
    private RopeFrequencies() {}

    static Tensor of(LlamaConfig config) {
        org.jtune.tensor.RopeFrequencies.Scaling scaling = switch (config.ropeScaling()) {
            case null -> new org.jtune.tensor.RopeFrequencies.None();
            case RopeScaling.Linear l -> new org.jtune.tensor.RopeFrequencies.Linear(l.factor());
            case RopeScaling.Llama3 l -> new org.jtune.tensor.RopeFrequencies.Llama3(
                    l.factor(), l.lowFreqFactor(), l.highFreqFactor(), l.originalMaxPositionEmbeddings());
        };
        float[] f = org.jtune.tensor.RopeFrequencies.inverseFrequencies(config.headDim(), config.ropeTheta(), scaling);
        return Tensor.of(f, f.length);
    }
}
