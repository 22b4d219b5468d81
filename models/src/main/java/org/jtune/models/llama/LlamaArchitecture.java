package org.jtune.models.llama;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architecture;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;

/** The Llama / Mistral family's entry in {@link org.jtune.models.arch.Architectures}. */
public final class LlamaArchitecture implements Architecture {
    @Override
    public List<String> architectures() {
        return LlamaConfig.SUPPORTED_ARCHITECTURES;
    }

    @Override
    public List<String> modelTypes() {
        return List.of("llama", "mistral", "mixtral", "smollm3", "granite");
    }

    @Override
    public ModelConfig parseConfig(String json, String source) throws JtuneException {
        return LlamaConfig.parse(json, source);
    }

    @Override
    public CausalLM create(ModelConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return LlamaModel.of((LlamaConfig) config, weights, owner);
    }

    @Override
    public CausalLM random(ModelConfig config, Rng rng, float std) {
        return LlamaModel.random((LlamaConfig) config, rng, std);
    }
}
