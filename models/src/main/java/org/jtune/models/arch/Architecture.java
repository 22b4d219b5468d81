package org.jtune.models.arch;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;

/**
 * One model family as {@link Architectures} sees it: which config.json it reads, how it parses it,
 * and how it builds the model over a checkpoint or with fresh weights. A family lives in its own
 * package (its config record, its model with the Hugging Face name table, and this entry).
 */
public interface Architecture {
    /** The config.json "architectures" values this family reads, e.g. LlamaForCausalLM. */
    List<String> architectures();

    /** The config.json "model_type" values, used when "architectures" is absent. */
    List<String> modelTypes();

    /** Parses config.json text; errors start with {@code source} and name the field. */
    ModelConfig parseConfig(String json, String source) throws JtuneException;

    /** The model over a checkpoint; {@code owner} (what maps the files, or null) is closed with the model. */
    CausalLM create(ModelConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException;

    /** A freshly initialised model (as transformers initialises one: N(0, std²) matrices, unit norms). */
    CausalLM random(ModelConfig config, Rng rng, float std);
}
