package org.jtune.models.qwen2;

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
 * The Qwen2 / Qwen2.5 decoder (Qwen2ForCausalLM), the dense Qwen3 decoder (Qwen3ForCausalLM) and the Qwen3
 * mixture of experts (Qwen3MoeForCausalLM), as transformers' modeling_qwen2, modeling_qwen3 and modeling_qwen3_moe define them:
 * <pre>
 *   h = embed_tokens[ids]
 *   per layer l:  x = input_layernorm(h)
 *                 q = q_proj(x) + q_bias,  k = k_proj(x) + k_bias,  v = v_proj(x) + v_bias
 *                 Qwen3: q = q_norm(q) and k = k_norm(k), an RMSNorm over head_dim per head
 *                 h = h + o_proj(attention_l(rope(q), rope(k), v)) + o_bias
 *                 x = post_attention_layernorm(h),  h = h + down_proj(silu(gate_proj(x)) · up_proj(x))
 *                 Qwen3-MoE: in a sparse layer ({@link org.jtune.models.config.MoeConfig#sparse}) the MLP is a {@link SparseMoe}
 *                 of experts mlp.experts.E.{gate,up,down}_proj routed by mlp.gate
 *   logits = lm_head(norm(h))      (lm_head = embed_tokens when tie_word_embeddings)
 * </pre>
 * attention_l is causal with grouped KV heads, within the window of layer l
 * ({@link Qwen2Config#layerWindow}: sliding only where config.json turns it on). LoRA adapts the
 * projections' weights as PEFT does; the biases stay frozen under LoRA (PEFT bias="none") and train
 * with the rest in full fine-tuning. Which biases exist ({@link Qwen2Config#qkvBias}, {@link Qwen2Config#outputBias})
 * and whether q_norm/k_norm do ({@link Qwen2Config#qkNorm}) is the config's. The weights are declared once, in the constructor, under their
 * Hugging Face names.
 */
public final class Qwen2Model extends DecoderModel<Qwen2Config> {
    /** One decoder layer; the biases and q/k norms are null where the config has none. */
    private record Layer(
            Weight inputNorm,     // (dim)
            LoraLinear q,         // (heads·headDim, dim)
            Weight qBias,         // (heads·headDim)
            LoraLinear k,         // (kvHeads·headDim, dim)
            Weight kBias,         // (kvHeads·headDim)
            LoraLinear v,         // (kvHeads·headDim, dim)
            Weight vBias,         // (kvHeads·headDim)
            Weight qNorm,         // (headDim), Qwen3
            Weight kNorm,         // (headDim), Qwen3
            LoraLinear o,         // (dim, heads·headDim)
            Weight oBias,         // (dim), Qwen3 with attention_bias
            Weight postNorm,      // (dim)
            FeedForward mlp) {}   // dense (hidden) or sparse

    /** How a layer's queries meet keys and values: the whole batch under a mask, or each sequence against its cache. */
    @FunctionalInterface
    private interface Attend {
        Variable apply(int layer, Variable q, Variable k, Variable v);
    }

    /** Where Qwen3MoeForCausalLM keeps a sparse layer's router and experts. */
    private static final SparseMoe.Names EXPERT_NAMES = new SparseMoe.Names("mlp.gate.weight",
            "mlp.experts.%d.gate_proj.weight", "mlp.experts.%d.up_proj.weight", "mlp.experts.%d.down_proj.weight");

    private final List<Layer> layers = new ArrayList<>();
    private final Weight norm;          // (dim)
    private final TokenEmbeddings tokens;
    private final Tensor invFreq;       // (headDim / 2)
    private final float eps;

    private Qwen2Model(Qwen2Config c, AutoCloseable owner) {
        super(c, owner);
        int dim = c.hiddenSize(), hidden = c.intermediateSize(), q = c.queryDim(), kv = c.keyValueDim(), hd = c.headDim();
        boolean bias = c.qkvBias(), qkNorm = c.qkNorm();
        // The Hugging Face name table of the architecture: the only place these names are spelled.
        Weight embedTokens = table.add("model.embed_tokens.weight", Weight.Role.EMBEDDING, c.vocabSize(), dim);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    table.add(p + "input_layernorm.weight", Weight.Role.NORM, dim),
                    table.projection(p + "self_attn.q_proj.weight", q, dim),
                    bias ? table.add(p + "self_attn.q_proj.bias", Weight.Role.BIAS, q) : null,
                    table.projection(p + "self_attn.k_proj.weight", kv, dim),
                    bias ? table.add(p + "self_attn.k_proj.bias", Weight.Role.BIAS, kv) : null,
                    table.projection(p + "self_attn.v_proj.weight", kv, dim),
                    bias ? table.add(p + "self_attn.v_proj.bias", Weight.Role.BIAS, kv) : null,
                    qkNorm ? table.add(p + "self_attn.q_norm.weight", Weight.Role.NORM, hd) : null,
                    qkNorm ? table.add(p + "self_attn.k_norm.weight", Weight.Role.NORM, hd) : null,
                    table.projection(p + "self_attn.o_proj.weight", dim, q),
                    c.outputBias() ? table.add(p + "self_attn.o_proj.bias", Weight.Role.BIAS, dim) : null,
                    table.add(p + "post_attention_layernorm.weight", Weight.Role.NORM, dim),
                    c.moe() != null && c.moe().sparse(l) ? SparseMoe.declare(table, p, EXPERT_NAMES, c.moe(), dim)
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
        Adapters adapters = declareAdapters();
        tokens = new TokenEmbeddings(embedTokens, lmHead, c.tieWordEmbeddings(), adapters);
        invFreq = RopeScaling.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
        eps = (float) c.rmsNormEps();
    }

    /** A model over a checkpoint's tensors; {@code owner} (a reader holding the mapping, or null) is closed with the model. */
    public static Qwen2Model of(Qwen2Config config, WeightSource weights, AutoCloseable owner) throws JtuneException {
        return bound(new Qwen2Model(config, owner), weights);
    }

    /** A freshly initialised model ({@link WeightTable#randomize}). */
    public static Qwen2Model random(Qwen2Config config, Rng rng, float std) {
        return randomized(new Qwen2Model(config, null), rng, std);
    }

    // ---- forward ---------------------------------------------------------------------------------

    @Override
    public Variable hiddenAfter(int depth, Tensor ids, Tensor positions, ForwardPass pass) {
        CausalLM.checkDepth(depth, layers.size());
        AdapterRouting routing = pass.adapters() != null ? pass.adapters() : AdapterRouting.uniform(adapters().active());
        Variable h = pass.embedded(tokens.embed(ids, routing));
        for (int l = 0; l < depth; l++) {
            int layer = l;
            AttentionMask mask = pass.mask().withWindow(config.layerWindow(l));
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
        Variable q = plus(y.q().apply(x, r, dropout), y.qBias()).view(b, t, config.numAttentionHeads(), hd);
        Variable k = plus(y.k().apply(x, r, dropout), y.kBias()).view(b, t, config.numKeyValueHeads(), hd);
        Variable v = plus(y.v().apply(x, r, dropout), y.vBias());
        if (y.qNorm() != null) {
            q = RmsNorm.apply(q, y.qNorm().value(), eps);
            k = RmsNorm.apply(k, y.kNorm().value(), eps);
        }
        q = Rope.apply(q, positions, invFreq);
        k = Rope.apply(k, positions, invFreq);
        Variable a = attend.apply(l, q, k, v.view(b, t, config.numKeyValueHeads(), hd)).reshape(b, t, config.queryDim());
        Variable res = Arithmetic.add(in, plus(y.o().apply(a, r, dropout), y.oBias()));
        Variable x2 = RmsNorm.apply(res, y.postNorm().value(), eps);
        return Arithmetic.add(res, y.mlp().apply(x2, r, dropout));
    }

    /** x + bias, or x where the layer has no such bias. */
    private static Variable plus(Variable x, Weight bias) {
        return bias == null ? x : Arithmetic.add(x, bias.value());
    }

    @Override
    public Variable logits(Variable hidden, AdapterRouting routing) {
        return tokens.logits(hidden, routing != null ? routing : AdapterRouting.uniform(adapters().active()));
    }

    // ---- generation steps ------------------------------------------------------------------------

    @Override
    public Tensor step(List<SequenceChunk> chunks) {
        try (var g = NoGrad.enter()) {
            StepBatch batch = new StepBatch(chunks);
            Variable h = tokens.embed(batch.ids(), batch.routing());
            for (int l = 0; l < layers.size(); l++) {
                int window = config.layerWindow(l);
                h = block(l, h, batch.positions(), batch.routing(), null, (layer, q, k, v) -> batch.attend(layer, q, k, v, window));
                BufferPool.keepOnly(h.value()); // the layer's intermediates are dead: the step pool lends them to the next layer
            }
            h = RmsNorm.apply(h, norm.value(), eps);
            return logits(batch.lastRows(h), batch.lastRouting()).value();
        }
    }
}
