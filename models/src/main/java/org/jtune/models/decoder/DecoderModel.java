package org.jtune.models.decoder;

import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.kv.KvCacheType;
import org.jtune.models.lora.Adapters;
import org.jtune.models.weights.WeightSource;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;

/**
 * What every decoder family's model holds the same way: its config, the reader that owns its mapped weights (closed with
 * the model), its Hugging Face name table, the adapters over the projections it declared, and the element type of the KV
 * caches it makes. A family's model declares its weights in its constructor, then calls {@link #declareAdapters}, and
 * computes; {@link #bound} and {@link #randomized} finish its factories.
 *
 * @param <C> the family's config
 */
public abstract class DecoderModel<C extends ModelConfig> implements CausalLM {
    protected final C config;
    protected final WeightTable table = new WeightTable();
    private final AutoCloseable owner;
    private Adapters adapters;
    protected DType kvCacheType = DType.F32; // of the KV caches made from now on

    protected DecoderModel(C config, AutoCloseable owner) {
        this.config = config;
        this.owner = owner;
    }

    /** The adapters over every projection declared so far; called once, when the family has declared them all. */
    protected final Adapters declareAdapters() {
        if (adapters != null) throw new IllegalStateException("adapters already declared");
        adapters = new Adapters(table.projections());
        return adapters;
    }

    /** {@code model} with its name table bound to a checkpoint's tensors. */
    protected static <M extends DecoderModel<?>> M bound(M model, WeightSource weights) throws JtuneException {
        model.table.bind(weights);
        return model;
    }

    /** {@code model} freshly initialised ({@link WeightTable#randomize}). */
    protected static <M extends DecoderModel<?>> M randomized(M model, Rng rng, float std) {
        model.table.randomize(rng, std);
        return model;
    }

    @Override
    public C config() {
        return config;
    }

    @Override
    public WeightTable weights() {
        return table;
    }

    @Override
    public Adapters adapters() {
        return adapters;
    }

    @Override
    public DType kvCacheType() {
        return kvCacheType;
    }

    @Override
    public void setKvCacheType(DType type) {
        kvCacheType = KvCacheType.check(type);
    }

    @Override
    public void close() {
        if (owner == null) return;
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the weights of " + config.architecture() + ": " + e.getMessage(), e);
        }
    }
}
