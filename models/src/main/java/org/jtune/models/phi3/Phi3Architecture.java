package org.jtune.models.phi3;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architecture;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;

/** The Phi-3 family's entry in {@link org.jtune.models.arch.Architectures}. */
public final class Phi3Architecture implements Architecture {
    @Override
    public List<String> architectures() {
        return List.of(Phi3Config.PHI3);
    }

    @Override
    public List<String> modelTypes() {
        return List.of("phi3");
    }

    @Override
    public ModelConfig parseConfig(String json, String source) throws JtuneException {
        return Phi3Config.parse(json, source);
    }

    @Override
    public CausalLM create(ModelConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return Phi3Model.of((Phi3Config) config, weights, owner);
    }

    @Override
    public CausalLM random(ModelConfig config, Rng rng, float std) {
        return Phi3Model.random((Phi3Config) config, rng, std);
    }
}
