package org.jtune.models.llama;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Attention;
import org.jtune.autograd.Checkpoint;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.RmsNorm;
import org.jtune.autograd.Rope;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.SequenceChunk;
import org.jtune.models.config.GraniteScales;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.config.RopeScaling;
import org.jtune.models.decoder.StepBatch;
import org.jtune.models.decoder.DecoderModel;
import org.jtune.models.decoder.FeedForward;
import org.jtune.models.decoder.GatedMlp;
import org.jtune.models.decoder.SparseMoe;
import org.jtune.models.decoder.TokenEmbeddings;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.models.weights.WeightSource;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.BufferPool;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The Llama / Mistral decoder (LlamaForCausalLM, MistralForCausalLM, SmolLM3ForCausalLM; MixtralForCausalLM, whose MLP is
 * a {@link SparseMoe} of experts block_sparse_moe.experts.E.{w1, w3, w2} (gate, up, down) routed by block_sparse_moe.gate;
 * GraniteForCausalLM, which scales embeddings, residual branches, attention scores and logits by {@link GraniteScales}):
 * <pre>
 *   h = embed_tokens[ids]
 *   per layer:  x = input_layernorm(h),           h = h + o_proj(attention(rope(q_proj(x)), rope(k_proj(x)), v_proj(x)))
 *               x = post_attention_layernorm(h),  h = h + down_proj(silu(gate_proj(x)) · up_proj(x))
 *   logits = lm_head(norm(h))      (lm_head = embed_tokens when tie_word_embeddings)
 * </pre>
 * Attention is causal with grouped KV heads and, for Mistral, a sliding window. The weights are
 * declared once, in the constructor, under their Hugging Face names; they are used in their stored
 * dtype (memory-mapped from the checkpoint) and are frozen constants unless a trainer replaces them
 * with parameters. One layer body serves training (attention over the whole batch under a mask)
 * and generation (each sequence attends over its own KV cache).
 */
public final class LlamaModel extends DecoderModel<LlamaConfig> {
    /** One decoder layer. */
    private record Layer(
            Weight inputNorm,     // (dim)
            LoraLinear q,         // (heads·headDim, dim)
            LoraLinear k,         // (kvHeads·headDim, dim)
            LoraLinear v,         // (kvHeads·headDim, dim)
            LoraLinear o,         // (dim, heads·headDim)
            Weight postNorm,      // (dim)
            FeedForward mlp) {}   // dense (hidden) or Mixtral's experts

    /** How a layer's queries meet keys and values: the whole batch under a mask, or each sequence against its cache. */
    @FunctionalInterface
    private interface Attend {
        Variable apply(int layer, Variable q, Variable k, Variable v);
    }

    /** Where MixtralForCausalLM keeps a layer's router and experts: w1 is the gate, w3 the up and w2 the down projection. */
    private static final SparseMoe.Names MIXTRAL_EXPERTS = new SparseMoe.Names("block_sparse_moe.gate.weight",
            "block_sparse_moe.experts.%d.w1.weight", "block_sparse_moe.experts.%d.w3.weight", "block_sparse_moe.experts.%d.w2.weight");

    private final List<Layer> layers = new ArrayList<>();
    private final Weight norm;          // (dim)
    private final TokenEmbeddings tokens; // embed_tokens (vocab, dim) and lm_head (vocab, dim), tied or not
    private final Tensor invFreq;       // (headDim / 2)
    private final float eps;
    /**
     * Granite's multipliers as this model applies them (1 elsewhere): on the embeddings, on each residual branch, on the
     * queries (attention_multiplier·√head_dim, so that the attention's own 1/√head_dim leaves attention_multiplier), and on
     * the logits (1 / logits_scaling).
     */
    private final float embeddingScale, residualScale, queryScale, logitScale;

    private LlamaModel(LlamaConfig c, AutoCloseable owner) {
        super(c, owner);
        int dim = c.hiddenSize(), hidden = c.intermediateSize(), q = c.queryDim(), kv = c.keyValueDim();
        // The Hugging Face name table of the architecture: the only place these names are spelled.
        Weight embedTokens = table.add("model.embed_tokens.weight", Weight.Role.EMBEDDING, c.vocabSize(), dim);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    table.add(p + "input_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "self_attn.q_proj.weight", q, dim),
                    table.projection(p + "self_attn.k_proj.weight", kv, dim),
                    table.projection(p + "self_attn.v_proj.weight", kv, dim),
                    table.projection(p + "self_attn.o_proj.weight", dim, q),
                    table.add(p + "post_attention_layernorm.weight", Weight.Role.NORM, dim),
                    c.moe() != null ? SparseMoe.declare(table, p, MIXTRAL_EXPERTS, c.moe(), dim)
                            : GatedMlp.declare(table, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight", dim, hidden)));
        }
        norm = table.add("model.norm.weight", Weight.Role.NORM, dim);
        LoraLinear lmHead;
        if (c.tieWordEmbeddings()) {
            table.tiedAlias("lm_head.weight");
            lmHead = new LoraLinear(embedTokens);
        } else {
            lmHead = new LoraLinear(table.add("lm_head.weight", Weight.Role.LINEAR, c.vocabSize(), dim));
        }
        invFreq = RopeScaling.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
        Adapters adapters = declareAdapters();
        tokens = new TokenEmbeddings(embedTokens, lmHead, c.tieWordEmbeddings(), adapters);
        eps = (float) c.rmsNormEps();
        GraniteScales g = c.granite();
        embeddingScale = g == null ? 1f : (float) g.embedding();
        residualScale = g == null ? 1f : (float) g.residual();
        queryScale = g == null ? 1f : (float) (g.attention() * Math.sqrt(c.headDim()));
        logitScale = g == null ? 1f : (float) (1.0 / g.logits());
    }

    /** A model over a checkpoint's tensors; {@code owner} (a reader holding the mapping, or null) is closed with the model. */
    public static LlamaModel of(LlamaConfig config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return bound(new LlamaModel(config, owner), weights);
    }

    /** A freshly initialised model ({@link WeightTable#randomize}). */
    public static LlamaModel random(LlamaConfig config, Rng rng, float std) {
        return randomized(new LlamaModel(config, null), rng, std);
    }

    // ---- forward ---------------------------------------------------------------------------------

    @Override
    public Variable hiddenAfter(int depth, Tensor ids, Tensor positions, ForwardPass pass) {
        CausalLM.checkDepth(depth, layers.size());
        AdapterRouting routing = pass.adapters() != null ? pass.adapters() : AdapterRouting.uniform(adapters().active());
        Variable h = scaled(pass.embedded(tokens.embed(ids, routing)), embeddingScale);
        // Mistral's and Mixtral's window applies whatever mask the caller built (callers that know it set the same)
        AttentionMask mask = config.slidingWindow() == null ? pass.mask() : pass.mask().withWindow(config.slidingWindow());
        for (int l = 0; l < depth; l++) {
            int layer = l;
            h = Checkpoint.apply(pass.checkpointing(), pass.dropout(),
                    in -> block(layer, in[0], positions, routing, pass.dropout(), (i, q, k, v) -> Attention.apply(q, k, v, mask)), h);
        }
        return depth == layers.size() ? RmsNorm.apply(h, norm.value(), eps) : h;
    }

    /** One decoder layer over hidden states (B, T, dim). */
    private Variable block(int l, Variable in, Tensor positions, AdapterRouting r, Rng dropout, Attend attend) {
        Layer y = layers.get(l);
        int b = in.size(0), t = in.size(1), hd = config.headDim();
        Variable x = RmsNorm.apply(in, y.inputNorm().value(), eps);
        Variable q = y.q().apply(x, r, dropout).view(b, t, config.numAttentionHeads(), hd);
        Variable k = y.k().apply(x, r, dropout).view(b, t, config.numKeyValueHeads(), hd);
        if (config.rotates(l)) {
            q = Rope.apply(q, positions, invFreq);
            k = Rope.apply(k, positions, invFreq);
        }
        Variable v = y.v().apply(x, r, dropout).view(b, t, config.numKeyValueHeads(), hd);
        Variable a = attend.apply(l, scaled(q, queryScale), k, v).reshape(b, t, config.queryDim());
        Variable res = Arithmetic.add(in, scaled(y.o().apply(a, r, dropout), residualScale));
        Variable x2 = RmsNorm.apply(res, y.postNorm().value(), eps);
        return Arithmetic.add(res, scaled(y.mlp().apply(x2, r, dropout), residualScale));
    }

    /** x·s, or x itself when s is 1 (every architecture but Granite). */
    private static Variable scaled(Variable x, float s) {
        return s == 1f ? x : Arithmetic.scale(x, s);
    }

    @Override
    public Variable logits(Variable hidden, AdapterRouting routing) {
        return scaled(tokens.logits(hidden, routing != null ? routing : AdapterRouting.uniform(adapters().active())), logitScale);
    }

    // ---- generation steps ------------------------------------------------------------------------

    @Override
    public Tensor step(List<SequenceChunk> chunks) {
        try (var g = NoGrad.enter()) {
            StepBatch batch = new StepBatch(chunks);
            int window = config.slidingWindow() == null ? 0 : config.slidingWindow();
            Variable h = scaled(tokens.embed(batch.ids(), batch.routing()), embeddingScale);
            for (int l = 0; l < layers.size(); l++) {
                h = block(l, h, batch.positions(), batch.routing(), null, (layer, q, k, v) -> batch.attend(layer, q, k, v, window));
                BufferPool.keepOnly(h.value()); // the layer's intermediates are dead: the step pool lends them to the next layer
            }
            h = RmsNorm.apply(h, norm.value(), eps);
            return logits(batch.lastRows(h), batch.lastRouting()).value();
        }
    }
}
