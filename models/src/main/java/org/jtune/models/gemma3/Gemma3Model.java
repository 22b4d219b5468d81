package org.jtune.models.gemma3;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Activations;
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
import org.jtune.models.config.RopeScaling;
import org.jtune.models.decoder.StepBatch;
import org.jtune.models.decoder.DecoderModel;
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
 * The Gemma 3 text decoder (Gemma3ForCausalLM), as transformers' modeling_gemma3 defines it:
 * <pre>
 *   h = embed_tokens[ids] · √hidden_size
 *   per layer l:  x = norm_in(h)
 *                 q = q_norm(q_proj(x)),  k = k_norm(k_proj(x))      (per head, over head_dim)
 *                 a = attention_l(rope_l(q), rope_l(k), v_proj(x)) scaled by query_pre_attn_scalar^−½
 *                 h = h + norm_post_attn(o_proj(a))
 *                 h = h + norm_post_ffn(down_proj(gelu_tanh(gate_proj(x2)) · up_proj(x2))),  x2 = norm_pre_ffn(h)
 *   logits = lm_head(norm(h)), soft-capped as cap·tanh(logits / cap) when final_logit_softcapping is set
 * </pre>
 * Every norm is Gemma's RMSNorm, x / √(mean(x²) + eps) · (1 + weight). A sliding layer attends within the window with
 * RoPE base rope_local_base_freq; a full layer attends causally with rope_theta and rope_scaling
 * ({@link Gemma3Config#layerTypes}). The attention scale is folded into the queries (× √(head_dim /
 * query_pre_attn_scalar), 1 for the released sizes) so every attention path (training, paged decode) applies it. LoRA
 * adapts the projections as PEFT does; the norms stay frozen under LoRA and train in full fine-tuning. The weights are
 * declared once, in the constructor, under their Hugging Face names.
 */
public final class Gemma3Model extends DecoderModel<Gemma3Config> {
    /** One decoder layer. */
    private record Layer(
            Weight inputNorm,          // (dim)
            LoraLinear q,              // (heads·headDim, dim)
            LoraLinear k,              // (kvHeads·headDim, dim)
            LoraLinear v,              // (kvHeads·headDim, dim)
            Weight qNorm,              // (headDim)
            Weight kNorm,              // (headDim)
            LoraLinear o,              // (dim, heads·headDim)
            Weight postAttentionNorm,  // (dim)
            Weight preFeedforwardNorm, // (dim)
            LoraLinear gate,           // (hidden, dim)
            LoraLinear up,             // (hidden, dim)
            LoraLinear down,           // (dim, hidden)
            Weight postFeedforwardNorm) {} // (dim)

    /** How a layer's queries meet keys and values: the whole batch under a mask, or each sequence against its cache. */
    @FunctionalInterface
    private interface Attend {
        Variable apply(int layer, Variable q, Variable k, Variable v);
    }

    private final List<Layer> layers = new ArrayList<>();
    private final Weight norm;          // (dim)
    private final TokenEmbeddings tokens;
    private final Tensor globalInvFreq, localInvFreq; // (headDim / 2)
    private final float eps, embedScale, queryScale;

    private Gemma3Model(Gemma3Config c, AutoCloseable owner) {
        super(c, owner);
        int dim = c.hiddenSize(), hidden = c.intermediateSize(), q = c.queryDim(), kv = c.keyValueDim(), hd = c.headDim();
        // The Hugging Face name table of the architecture: the only place these names are spelled.
        Weight embedTokens = table.add("model.embed_tokens.weight", Weight.Role.EMBEDDING, c.vocabSize(), dim);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    table.add(p + "input_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "self_attn.q_proj.weight", q, dim),
                    table.projection(p + "self_attn.k_proj.weight", kv, dim),
                    table.projection(p + "self_attn.v_proj.weight", kv, dim),
                    table.add(p + "self_attn.q_norm.weight", Weight.Role.NORM, hd),
                    table.add(p + "self_attn.k_norm.weight", Weight.Role.NORM, hd),
                    table.projection(p + "self_attn.o_proj.weight", dim, q),
                    table.add(p + "post_attention_layernorm.weight", Weight.Role.NORM, dim),
                    table.add(p + "pre_feedforward_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "mlp.gate_proj.weight", hidden, dim),
                    table.projection(p + "mlp.up_proj.weight", hidden, dim),
                    table.projection(p + "mlp.down_proj.weight", dim, hidden),
                    table.add(p + "post_feedforward_layernorm.weight", Weight.Role.NORM, dim)));
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
        globalInvFreq = RopeScaling.inverseFrequencies(hd, c.ropeTheta(), c.ropeScaling());
        localInvFreq = RopeScaling.inverseFrequencies(hd, c.ropeLocalBaseFreq(), null);
        eps = (float) c.rmsNormEps();
        embedScale = (float) Math.sqrt(dim);
        queryScale = (float) Math.sqrt(hd / c.queryPreAttnScalar());
    }

    /** A model over a checkpoint's tensors; {@code owner} (a reader holding the mapping, or null) is closed with the model. */
    public static Gemma3Model of(Gemma3Config config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return bound(new Gemma3Model(config, owner), weights);
    }

    /** A freshly initialised model ({@link WeightTable#randomize}). */
    public static Gemma3Model random(Gemma3Config config, Rng rng, float std) {
        return randomized(new Gemma3Model(config, null), rng, std);
    }

    // ---- forward ---------------------------------------------------------------------------------

    @Override
    public Variable hiddenAfter(int depth, Tensor ids, Tensor positions, ForwardPass pass) {
        CausalLM.checkDepth(depth, layers.size());
        AdapterRouting routing = pass.adapters() != null ? pass.adapters() : AdapterRouting.uniform(adapters().active());
        Variable h = pass.embedded(Arithmetic.scale(tokens.embed(ids, routing), embedScale));
        for (int l = 0; l < depth; l++) {
            int layer = l;
            AttentionMask mask = pass.mask().withWindow(config.layerWindow(l));
            h = Checkpoint.apply(pass.checkpointing(), pass.dropout(),
                    in -> block(layer, in[0], positions, routing, pass.dropout(), (i, q, k, v) -> Attention.apply(q, k, v, mask)), h);
        }
        return depth == layers.size() ? norm(h, norm) : h;
    }

    /** Gemma's RMSNorm: the weight scales as 1 + weight. */
    private Variable norm(Variable x, Weight w) {
        return RmsNorm.apply(x, Arithmetic.addScalar(w.value(), 1f), eps);
    }

    /** One decoder layer over hidden states (B, T, dim). */
    private Variable block(int l, Variable in, Tensor positions, AdapterRouting r, Rng dropout, Attend attend) {
        Layer y = layers.get(l);
        int b = in.size(0), t = in.size(1), hd = config.headDim();
        Tensor invFreq = config.sliding(l) ? localInvFreq : globalInvFreq;
        Variable x = norm(in, y.inputNorm());
        Variable q = norm(y.q().apply(x, r, dropout).view(b, t, config.numAttentionHeads(), hd), y.qNorm());
        Variable k = norm(y.k().apply(x, r, dropout).view(b, t, config.numKeyValueHeads(), hd), y.kNorm());
        Variable v = y.v().apply(x, r, dropout).view(b, t, config.numKeyValueHeads(), hd);
        q = Rope.apply(q, positions, invFreq);
        if (queryScale != 1f) q = Arithmetic.scale(q, queryScale);
        k = Rope.apply(k, positions, invFreq);
        Variable a = attend.apply(l, q, k, v).reshape(b, t, config.queryDim());
        Variable res = Arithmetic.add(in, norm(y.o().apply(a, r, dropout), y.postAttentionNorm()));
        Variable x2 = norm(res, y.preFeedforwardNorm());
        Variable mlp = Arithmetic.mul(Activations.geluTanh(y.gate().apply(x2, r, dropout)), y.up().apply(x2, r, dropout));
        return Arithmetic.add(res, norm(y.down().apply(mlp, r, dropout), y.postFeedforwardNorm()));
    }

    @Override
    public Variable logits(Variable hidden, AdapterRouting routing) {
        Variable logits = tokens.logits(hidden, routing != null ? routing : AdapterRouting.uniform(adapters().active()));
        if (config.finalLogitSoftcapping() == null) return logits;
        float cap = config.finalLogitSoftcapping().floatValue();
        return Arithmetic.scale(Activations.tanh(Arithmetic.scale(logits, 1f / cap)), cap);
    }

    // ---- generation steps ------------------------------------------------------------------------

    @Override
    public Tensor step(List<SequenceChunk> chunks) {
        try (var g = NoGrad.enter()) {
            StepBatch batch = new StepBatch(chunks);
            Variable h = Arithmetic.scale(tokens.embed(batch.ids(), batch.routing()), embedScale);
            for (int l = 0; l < layers.size(); l++) {
                int window = config.layerWindow(l);
                h = block(l, h, batch.positions(), batch.routing(), null, (layer, q, k, v) -> batch.attend(layer, q, k, v, window));
                BufferPool.keepOnly(h.value()); // the layer's intermediates are dead: the step pool lends them to the next layer
            }
            h = norm(h, norm);
            return logits(batch.lastRows(h), batch.lastRouting()).value();
        }
    }
}
