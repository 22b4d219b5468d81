package org.jtune.models.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.lora.LoraLinear;
import org.jtune.quant.RowGroupFormats;
import org.jtune.tensor.DType;
import org.jtune.tensor.NonFinite;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The one table of an architecture that maps Hugging Face tensor names to the model's weights. An
 * architecture builds it once, in its constructor, in checkpoint order ({@link #add}, and
 * {@link #projection} for the linear layers LoRA may target); everything that needs names then
 * asks the table: loading ({@link #bind}), random initialisation ({@link #randomize}), saving and
 * merging ({@link #named}), LoRA targeting ({@link #projections}), full fine-tuning ({@link #get}).
 */
public final class WeightTable {
    /** Tensors a checkpoint may hold that no architecture here reads (older transformers wrote them). */
    private static final List<String> IGNORED_SUFFIXES = List.of(".rotary_emb.inv_freq");

    private final Map<String, Weight> weights = new LinkedHashMap<>();
    private final List<LoraLinear> projections = new ArrayList<>();
    private final List<String> tiedAliases = new ArrayList<>();

    /** Declares a weight of the given role and shape. */
    public Weight add(String name, Weight.Role role, int... shape) {
        Weight w = new Weight(name, role, shape);
        if (weights.putIfAbsent(name, w) != null) throw new IllegalArgumentException("weight " + name + " declared twice");
        return w;
    }

    /** Declares an (out, in) projection that LoRA may target, wrapped in its {@link LoraLinear}. */
    public LoraLinear projection(String name, int out, int in) {
        return projection(name, Weight.Role.LINEAR, out, in);
    }

    /** A projection of another role that LoRA may target too: a mixture's router ({@link Weight.Role#ROUTER}). */
    public LoraLinear projection(String name, Weight.Role role, int out, int in) {
        LoraLinear lin = new LoraLinear(add(name, role, out, in));
        projections.add(lin);
        return lin;
    }

    /**
     * Records that {@code alias} (e.g. lm_head.weight of a tied model) is the same tensor as a declared
     * weight: a checkpoint may carry it, and loading ignores it.
     */
    public void tiedAlias(String alias) {
        tiedAliases.add(alias);
    }

    /** The weight named {@code name}; an error lists a few known names when there is none. */
    public Weight get(String name) {
        Weight w = weights.get(name);
        if (w == null) {
            throw new IllegalArgumentException("no weight named " + name + " in this model (it has " + weights.size()
                    + " weights, e.g. " + String.join(", ", weights.keySet().stream().limit(3).toList()) + ")");
        }
        return w;
    }

    /** The token embedding table (the one weight of role EMBEDDING). */
    public Weight embedding() {
        for (Weight w : weights.values()) if (w.role() == Weight.Role.EMBEDDING) return w;
        throw new IllegalStateException("this model declares no embedding table");
    }

    public boolean contains(String name) {
        return weights.containsKey(name);
    }

    /** Every weight, in table order. */
    public List<Weight> all() {
        return List.copyOf(weights.values());
    }

    /** The LoRA-targetable projections, in table order. */
    public List<LoraLinear> projections() {
        return Collections.unmodifiableList(projections);
    }

    /** name → current value, in table order (a tied head appears once, under the embedding's name). */
    public Map<String, Variable> named() {
        Map<String, Variable> m = new LinkedHashMap<>();
        for (Weight w : weights.values()) m.put(w.name(), w.value());
        return m;
    }

    /**
     * Sets every weight from {@code source} as a frozen constant in its stored dtype (no copy). Fails,
     * naming the tensor, when one is missing, has another shape or is not floating, and when the
     * source holds tensors this table does not declare (a config.json that does not match its
     * checkpoint, e.g. fewer layers than the checkpoint has), and when a weight holds NaN or ±Inf
     * (a model saved from a diverged run generates token 0 forever and trains with a NaN loss);
     * -Djtune.checkFinite=false skips that scan. Projections and the embedding may come block-quantized
     * ({@code DType.BLOCK}: a GGUF file, a quantized folder); they are bound as they are, not scanned; formats with an integer kernel of their
     * own are repacked into its interleaved layout ({@link RowGroupFormats#repacked}).
     */
    public void bind(WeightSource source) throws JtuneException {
        for (Weight w : weights.values()) {
            Tensor t = source.get(w.name());
            if (t == null) {
                throw new JtuneException(source.origin() + ": checkpoint has no tensor " + w.name() + " (expected shape "
                        + Arrays.toString(w.shape()) + ")");
            }
            if (!Arrays.equals(t.shape(), w.shape())) {
                throw new JtuneException(source.origin() + ": tensor " + w.name() + " has shape " + Arrays.toString(t.shape())
                        + ", config.json implies " + Arrays.toString(w.shape()));
            }
            boolean blocks = t.dtype() == DType.BLOCK && (w.role() == Weight.Role.LINEAR || w.role() == Weight.Role.EMBEDDING);
            if (!t.dtype().isFloating() && !blocks) {
                throw new JtuneException(source.origin() + ": tensor " + w.name() + " has dtype "
                        + (t.dtype() == DType.BLOCK ? t.blockCodec().name() + " (block-quantized, which only projections and embeddings may be)" : t.dtype())
                        + "; expected F32, F16 or BF16");
            }
            w.set(Variable.constant(blocks ? RowGroupFormats.repacked(t) : t));
        }
        TreeSet<String> unused = new TreeSet<>();
        for (String n : source.names()) {
            if (!weights.containsKey(n) && !tiedAliases.contains(n) && IGNORED_SUFFIXES.stream().noneMatch(n::endsWith)) unused.add(n);
        }
        if (!unused.isEmpty()) {
            throw new JtuneException(source.origin() + ": the checkpoint holds " + unused.size() + " tensor(s) that config.json does not "
                    + "account for, e.g. " + String.join(", ", unused.stream().limit(3).toList())
                    + "; does config.json (layers, sizes, tie_word_embeddings) belong to this checkpoint?");
        }
        if (!"false".equals(System.getProperty("jtune.checkFinite"))) requireFinite(source.origin());
    }

    /** Fails, naming the first tensor (in table order) and element that is NaN or ±Inf. */
    public void requireFinite(String origin) throws JtuneException {
        List<Weight> all = List.copyOf(weights.values());
        NonFinite.Found[] found = new NonFinite.Found[all.size()];
        Parallel.forRange(all.size(), 1, (from, to) -> {
            for (int i = from; i < to; i++) found[i] = NonFinite.first(all.get(i).value().value());
        });
        for (int i = 0; i < found.length; i++) {
            if (found[i] != null) {
                throw new JtuneException(origin + ": tensor " + all.get(i).name() + " holds " + found[i].describe()
                        + ": the weights are corrupt or come from a run that diverged; jtune does not run or train on them "
                        + "(-Djtune.checkFinite=false skips this check)");
            }
        }
    }

    /**
     * Fresh weights as transformers initialises a causal LM: embeddings and projections N(0, std²),
     * norms 1, biases 0, drawn in table order (reproducible from the generator's state).
     */
    public void randomize(Rng rng, float std) {
        for (Weight w : weights.values()) {
            Tensor t = switch (w.role()) {
                case EMBEDDING, LINEAR, ROUTER -> Tensor.randn(rng, std, w.shape());
                case NORM -> Tensor.ones(w.shape());
                case BIAS -> Tensor.zeros(w.shape());
            };
            w.set(Variable.constant(t));
        }
    }
}
