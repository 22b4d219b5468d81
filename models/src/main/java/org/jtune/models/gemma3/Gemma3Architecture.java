package org.jtune.models.gemma3;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architecture;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;

/** The Gemma 3 text family's entry in {@link org.jtune.models.arch.Architectures}. */
public final class Gemma3Architecture implements Architecture {
    @Override
    public List<String> architectures() {
        return List.of(Gemma3Config.GEMMA3);
    }

    @Override
    public List<String> modelTypes() {
        return List.of("gemma3_text");
    }

    @Override
    public ModelConfig parseConfig(String json, String source) throws JtuneException {
        return Gemma3Config.parse(json, source);
    }

    @Override
    public CausalLM create(ModelConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return Gemma3Model.of((Gemma3Config) config, weights, owner);
    }

    @Override
    public CausalLM random(ModelConfig config, Rng rng, float std) {
        return Gemma3Model.random((Gemma3Config) config, rng, std);
    }
}
