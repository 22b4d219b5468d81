package org.jtune.models.qwen2;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architecture;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;

/** The Qwen2 / Qwen2.5 / Qwen3 (dense and mixture-of-experts) family's entry in {@link org.jtune.models.arch.Architectures}. */
public final class Qwen2Architecture implements Architecture {
    @Override
    public List<String> architectures() {
        return Qwen2Config.ARCHITECTURES;
    }

    @Override
    public List<String> modelTypes() {
        return List.of("qwen2", "qwen3", "qwen3_moe");
    }

    @Override
    public ModelConfig parseConfig(String json, String source) throws JtuneException {
        return Qwen2Config.parse(json, source);
    }

    @Override
    public CausalLM create(ModelConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return Qwen2Model.of((Qwen2Config) config, weights, owner);
    }

    @Override
    public CausalLM random(ModelConfig config, Rng rng, float std) {
        return Qwen2Model.random((Qwen2Config) config, rng, std);
    }
}
