package org.jtune.models.phi3;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Attention;
import org.jtune.autograd.Checkpoint;
import org.jtune.autograd.Concat;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.RmsNorm;
import org.jtune.autograd.SwiGlu;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.SequenceChunk;
import org.jtune.models.decoder.StepBatch;
import org.jtune.models.decoder.DecoderModel;
import org.jtune.models.decoder.TokenEmbeddings;
import org.jtune.models.kv.KvCache;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.models.weights.WeightSource;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.BufferPool;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The Phi-3 decoder (Phi3ForCausalLM), as transformers' modeling_phi3 defines it:
 * <pre>
 *   h = embed_tokens[ids]
 *   per layer:  x = input_layernorm(h),  [q | k | v] = qkv_proj(x)        (heads·hd | kvHeads·hd | kvHeads·hd)
 *               h = h + o_proj(attention(rope(q), rope(k), v))
 *               x = post_attention_layernorm(h),  [gate | up] = gate_up_proj(x)   (intermediate | intermediate)
 *               h = h + down_proj(silu(gate) · up)
 *   logits = lm_head(norm(h))      (lm_head = embed_tokens when tie_word_embeddings)
 * </pre>
 * RoPE is {@link Phi3Rope} (LongRoPE short/long factors, attention factor, partial rotary);
 * attention is causal with grouped KV heads within sliding_window when config.json sets one. LoRA
 * targets the fused projections as PEFT does (qkv_proj, gate_up_proj, o_proj, down_proj: one A/B
 * pair per fused weight). The residual dropouts of training in transformers are 0 in every
 * released checkpoint and are not applied.
 */
public final class Phi3Model extends DecoderModel<Phi3Config> {
    /** One decoder layer. */
    private record Layer(
            Weight inputNorm,     // (dim)
            LoraLinear qkv,       // ((heads + 2·kvHeads)·headDim, dim)
            LoraLinear o,         // (dim, heads·headDim)
            Weight postNorm,      // (dim)
            LoraLinear gateUp,    // (2·intermediate, dim)
            LoraLinear down) {}   // (dim, intermediate)

    @FunctionalInterface
    private interface Attend {
        Variable apply(int layer, Variable q, Variable k, Variable v);
    }

    private final List<Layer> layers = new ArrayList<>();
    private final Weight norm;          // (dim)
    private final TokenEmbeddings tokens;
    private final Phi3Rope rope;
    private final float eps;

    private Phi3Model(Phi3Config c, AutoCloseable owner) {
        super(c, owner);
        int dim = c.hiddenSize(), hidden = c.intermediateSize(), q = c.queryDim(), kv = c.keyValueDim();
        // The Hugging Face name table of the architecture: the only place these names are spelled.
        Weight embedTokens = table.add("model.embed_tokens.weight", Weight.Role.EMBEDDING, c.vocabSize(), dim);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    table.add(p + "input_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "self_attn.qkv_proj.weight", q + 2 * kv, dim),
                    table.projection(p + "self_attn.o_proj.weight", dim, q),
                    table.add(p + "post_attention_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "mlp.gate_up_proj.weight", 2 * hidden, dim),
                    table.projection(p + "mlp.down_proj.weight", dim, hidden)));
        }
        norm = table.add("model.norm.weight", Weight.Role.NORM, dim);
        LoraLinear lmHead;
        if (c.tieWordEmbeddings()) {
            table.tiedAlias("lm_head.weight");
            lmHead = new LoraLinear(embedTokens);
        } else {
            lmHead = new LoraLinear(table.add("lm_head.weight", Weight.Role.LINEAR, c.vocabSize(), dim));
        }
        Adapters adapters = declareAdapters();
        tokens = new TokenEmbeddings(embedTokens, lmHead, c.tieWordEmbeddings(), adapters);
        rope = new Phi3Rope(c);
        eps = (float) c.rmsNormEps();
    }

    /** A model over a checkpoint's tensors; {@code owner} (a reader holding the mapping, or null) is closed with the model. */
    public static Phi3Model of(Phi3Config config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return bound(new Phi3Model(config, owner), weights);
    }

    /** A freshly initialised model ({@link WeightTable#randomize}). */
    public static Phi3Model random(Phi3Config config, Rng rng, float std) {
        return randomized(new Phi3Model(config, null), rng, std);
    }

    private int window() {
        return config.slidingWindow() == null ? 0 : config.slidingWindow();
    }

    // ---- forward ---------------------------------------------------------------------------------

    /** The whole batch takes the long factors when its longest sequence (max position + 1) passes the switch, as transformers does. */
    @Override
    public Variable hiddenAfter(int depth, Tensor ids, Tensor positions, ForwardPass pass) {
        CausalLM.checkDepth(depth, layers.size());
        AdapterRouting routing = pass.adapters() != null ? pass.adapters() : AdapterRouting.uniform(adapters().active());
        int maxPosition = Arrays.stream(positions.toIntArray()).max().orElse(0);
        boolean longFactors = rope.isLong(maxPosition + 1);
        AttentionMask mask = pass.mask().withWindow(window());
        Variable h = pass.embedded(tokens.embed(ids, routing));
        for (int l = 0; l < depth; l++) {
            int layer = l;
            h = Checkpoint.apply(pass.checkpointing(), pass.dropout(), in -> block(layer, in[0], positions, longFactors, routing,
                    pass.dropout(), (i, q, k, v) -> Attention.apply(q, k, v, mask)), h);
        }
        return depth == layers.size() ? RmsNorm.apply(h, norm.value(), eps) : h;
    }

    /** One decoder layer over hidden states (B, T, dim). */
    private Variable block(int l, Variable in, Tensor positions, boolean longFactors, AdapterRouting r, Rng dropout, Attend attend) {
        Layer y = layers.get(l);
        int b = in.size(0), t = in.size(1), hd = config.headDim(), heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        int qDim = config.queryDim(), kvDim = config.keyValueDim();
        Variable x = RmsNorm.apply(in, y.inputNorm().value(), eps);
        Variable qkv = y.qkv().apply(x, r, dropout);
        Variable q = rope.apply(qkv.narrow(2, 0, qDim).reshape(b, t, heads, hd), positions, longFactors);
        Variable k = rope.apply(qkv.narrow(2, qDim, kvDim).reshape(b, t, kvHeads, hd), positions, longFactors);
        Variable v = qkv.narrow(2, qDim + kvDim, kvDim).reshape(b, t, kvHeads, hd);
        Variable a = attend.apply(l, q, k, v).reshape(b, t, qDim);
        Variable res = Arithmetic.add(in, y.o().apply(a, r, dropout));
        Variable x2 = RmsNorm.apply(res, y.postNorm().value(), eps);
        List<Variable> gateUp = Concat.split(y.gateUp().apply(x2, r, dropout), config.intermediateSize(), 2);
        return Arithmetic.add(res, y.down().apply(SwiGlu.apply(gateUp.get(0), gateUp.get(1)), r, dropout));
    }

    @Override
    public Variable logits(Variable hidden, AdapterRouting routing) {
        return tokens.logits(hidden, routing != null ? routing : AdapterRouting.uniform(adapters().active()));
    }

    // ---- generation steps ------------------------------------------------------------------------

    /**
     * One step, with LongRoPE's switch: a sequence whose length passes original_max_position_embeddings
     * in this step while its cache holds keys rotated with the short factors is run again from its
     * first token (Phi3ForCausalLM drops the cache there); sequences on short and on long factors run
     * as two batches.
     */
    @Override
    public Tensor step(List<SequenceChunk> chunks) {
        try (var g = NoGrad.enter()) {
            int n = chunks.size();
            List<SequenceChunk> shortRun = new ArrayList<>(), longRun = new ArrayList<>();
            List<Integer> shortAt = new ArrayList<>(), longAt = new ArrayList<>();
            int[] restartedAt = new int[n];
            Arrays.fill(restartedAt, -1);
            for (int s = 0; s < n; s++) {
                SequenceChunk c = chunks.get(s);
                int before = c.cache().length(), after = before + c.tokens().length;
                boolean longFactors = rope.isLong(after);
                SequenceChunk run = c;
                Phi3KvCache cache = c.cache() instanceof Phi3KvCache p ? p : null;
                boolean cachedShort = before > 0 && before <= rope.switchLength();
                if (longFactors && cachedShort) {
                    if (cache == null) {
                        throw new IllegalArgumentException("sequence " + s + " passes original_max_position_embeddings (" + rope.switchLength()
                                + ") and must be recomputed with LongRoPE's long factors, which needs the KV cache of Phi3Model.newKvCache");
                    }
                    int[] all = concat(cache.cachedTokens(), c.tokens());
                    cache.restart();
                    cache.useLongFactors(true);
                    restartedAt[s] = before;
                    run = new SequenceChunk(all, cache, c.adapter());
                } else if (cache != null) {
                    cache.useLongFactors(longFactors);
                }
                (longFactors ? longRun : shortRun).add(run);
                (longFactors ? longAt : shortAt).add(s);
            }
            Tensor[] rows = new Tensor[n];
            if (!shortRun.isEmpty()) scatter(run(shortRun, false), shortAt, rows);
            if (!longRun.isEmpty()) scatter(run(longRun, true), longAt, rows);
            for (int s = 0; s < n; s++) if (restartedAt[s] >= 0) ((Phi3KvCache) chunks.get(s).cache()).refilled(restartedAt[s]);
            return n == 1 ? rows[0] : Ops.concat(Arrays.asList(rows), 0);
        }
    }

    /** Logits (chunks, vocab) of the last token of each chunk, all rotated with the same factors. */
    private Tensor run(List<SequenceChunk> chunks, boolean longFactors) {
        StepBatch batch = new StepBatch(chunks);
        int window = window();
        Variable h = tokens.embed(batch.ids(), batch.routing());
        for (int l = 0; l < layers.size(); l++) {
            h = block(l, h, batch.positions(), longFactors, batch.routing(), null, (layer, q, k, v) -> batch.attend(layer, q, k, v, window));
            BufferPool.keepOnly(h.value()); // the layer's intermediates are dead: the step pool lends them to the next layer
        }
        h = RmsNorm.apply(h, norm.value(), eps);
        return logits(batch.lastRows(h), batch.lastRouting()).value();
    }

    private static void scatter(Tensor logits, List<Integer> at, Tensor[] rows) {
        for (int i = 0; i < at.size(); i++) rows[at.get(i)] = logits.narrow(0, i, 1);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Override
    public KvCache newKvCache(int capacity) {
        return new Phi3KvCache(config.numHiddenLayers(), config.numKeyValueHeads(), config.headDim(), capacity, kvCacheType);
    }
}
