package org.jtune.serve.monitor;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * The model's own view of a prompt: its final-norm hidden states (the input of lm_head), averaged over
 * the prompt's tokens, one forward per prompt ({@link HiddenStates}), truncated to {@link #MAX_TOKENS}. This is
 * the only place monitoring calls the model.
 */
public final class HiddenStateEmbedder implements TextEmbedder, AutoCloseable {
    public static final int MAX_TOKENS = 256;
    private final CausalLM model;
    private final Tokenizer tokenizer;

    private HiddenStateEmbedder(CausalLM model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** The model of {@code dir}, with a PEFT adapter applied when {@code adapter} is not null. */
    public static HiddenStateEmbedder load(Path dir, Path adapter) throws JtuneException {
        CausalLM m = Architectures.load(dir);
        try {
            if (adapter != null) PeftFormat.load(adapter, m);
        } catch (JtuneException | RuntimeException e) {
            m.close();
            throw e;
        }
        return new HiddenStateEmbedder(m, Tokenizer.load(dir));
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        int limit = Math.min(MAX_TOKENS, model.config().maxPositionEmbeddings());
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = tokenizer.encode(texts.get(i), true);
            if (ids.length > limit) ids = java.util.Arrays.copyOf(ids, limit);
            if (ids.length == 0) ids = new int[] {Math.max(0, tokenizer.bosId())};
            out[i] = meanPooled(ids);
        }
        return out;
    }

    /** Mean over positions of the (1, T, dim) final hidden states. */
    float[] meanPooled(int[] ids) {
        int t = ids.length;
        float[] all = HiddenStates.of(model, ids, model.config().numHiddenLayers());
        int dim = all.length / t;
        float[] mean = new float[dim];
        for (int i = 0; i < t; i++) for (int k = 0; k < dim; k++) mean[k] += all[i * dim + k];
        for (int k = 0; k < dim; k++) mean[k] /= t;
        return mean;
    }

    @Override
    public void close() throws Exception {
        model.close();
    }
}
