package org.jtune.models.llama;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Attention;
import org.jtune.autograd.Checkpoint;
import org.jtune.autograd.Embedding;
import org.jtune.autograd.IndexCopy;
import org.jtune.autograd.Linear;
import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Rope;
import org.jtune.autograd.RmsNorm;
import org.jtune.autograd.SwiGlu;
import org.jtune.autograd.Variable;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The Llama / Mistral decoder (LlamaForCausalLM, MistralForCausalLM), one forward for inference and
 * training:
 * <pre>
 *   h = embed_tokens[ids]
 *   per layer:  h = h + o_proj(attention(rope(q_proj(x)), rope(k_proj(x)), v_proj(x))),  x = input_layernorm(h)
 *               h = h + down_proj(silu(gate_proj(x)) · up_proj(x)),                   x = post_attention_layernorm(h)
 *   logits = lm_head(norm(h))      (lm_head = embed_tokens when tie_word_embeddings)
 * </pre>
 * Attention is causal with grouped KV heads and, for Mistral, a sliding window. Parameters carry the
 * Hugging Face names. Weights are used in their stored dtype, memory-mapped from the checkpoint; they
 * are constants (frozen) unless a trainer makes them parameters. Under {@link org.jtune.autograd.NoGrad}
 * nothing is recorded and the forward costs only its kernels.
 */
public final class LlamaModel implements AutoCloseable {
    /** One decoder layer's weights. */
    public record Layer(
            Variable inputNorm,   // (dim)
            LoraLinear q,         // (heads·headDim, dim)
            LoraLinear k,         // (kvHeads·headDim, dim)
            LoraLinear v,         // (kvHeads·headDim, dim)
            LoraLinear o,         // (dim, heads·headDim)
            Variable postNorm,    // (dim)
            LoraLinear gate,      // (hidden, dim)
            LoraLinear up,        // (hidden, dim)
            LoraLinear down) {    // (dim, hidden)
    }

    private final LlamaConfig config;
    private final AutoCloseable weightsSource;
    private Variable embedTokens;      // (vocab, dim)
    private final List<Layer> layers;
    private Variable norm;             // (dim)
    private final LoraLinear lmHead;   // (vocab, dim); shares embed_tokens when tied
    private final Tensor invFreq;      // (headDim / 2)
    private TrainableRows trainableTokens; // (R, dim) rows of embed_tokens trained on their own, or null

    private LlamaModel(LlamaConfig config, Map<String, Tensor> weights, AutoCloseable weightsSource) throws JtuneException {
        this.config = config;
        this.weightsSource = weightsSource;
        Lookup w = new Lookup(weights);
        int dim = config.hiddenSize(), hd = config.headDim();
        int heads = config.numAttentionHeads(), kv = config.numKeyValueHeads(), hidden = config.intermediateSize();
        this.embedTokens = w.get("model.embed_tokens.weight", config.vocabSize(), dim);
        this.layers = new ArrayList<>();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new Layer(
                    w.get(p + "input_layernorm.weight", dim),
                    w.linear(p + "self_attn.q_proj.weight", heads * hd, dim),
                    w.linear(p + "self_attn.k_proj.weight", kv * hd, dim),
                    w.linear(p + "self_attn.v_proj.weight", kv * hd, dim),
                    w.linear(p + "self_attn.o_proj.weight", dim, heads * hd),
                    w.get(p + "post_attention_layernorm.weight", dim),
                    w.linear(p + "mlp.gate_proj.weight", hidden, dim),
                    w.linear(p + "mlp.up_proj.weight", hidden, dim),
                    w.linear(p + "mlp.down_proj.weight", dim, hidden)));
        }
        this.norm = w.get("model.norm.weight", dim);
        this.lmHead = config.tieWordEmbeddings()
                ? new LoraLinear("model.embed_tokens.weight", embedTokens)
                : w.linear("lm_head.weight", config.vocabSize(), dim);
        this.invFreq = RopeFrequencies.of(config);
    }

    /** Loads config.json and the safetensors weights (single file or sharded) of a Hugging Face folder. */
    public static LlamaModel load(Path dir) throws JtuneException {
        LlamaConfig config = LlamaConfig.load(dir.resolve("config.json"));
        SafetensorsReader reader = SafetensorsReader.open(dir);
        try {
            Map<String, Tensor> weights = new LinkedHashMap<>();
            for (String name : reader.names()) weights.put(name, reader.get(name));
            return new LlamaModel(config, weights, reader);
        } catch (JtuneException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** A model over weights already in memory (tests, benchmarks, a freshly initialised model). */
    public static LlamaModel of(LlamaConfig config, Map<String, Tensor> weights) throws JtuneException {
        return new LlamaModel(config, weights, null);
    }

    public LlamaConfig config() {
        return config;
    }

    public List<Layer> layers() {
        return layers;
    }

    public Variable embedTokens() {
        return embedTokens;
    }

    public Variable norm() {
        return norm;
    }

    public LoraLinear lmHead() {
        return lmHead;
    }

    /** Every weight by its Hugging Face name (the tied head appears once, as embed_tokens). */
    public Map<String, Variable> namedWeights() {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", embedTokens);
        for (int l = 0; l < layers.size(); l++) {
            Layer y = layers.get(l);
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", y.inputNorm());
            for (LoraLinear lin : List.of(y.q(), y.k(), y.v(), y.o())) m.put(lin.name(), lin.weight());
            m.put(p + "post_attention_layernorm.weight", y.postNorm());
            for (LoraLinear lin : List.of(y.gate(), y.up(), y.down())) m.put(lin.name(), lin.weight());
        }
        m.put("model.norm.weight", norm);
        if (!config.tieWordEmbeddings()) m.put("lm_head.weight", lmHead.weight());
        return m;
    }

    /** Every projection that can carry a LoRA adapter, by Hugging Face weight name. */
    public List<LoraLinear> projections() {
        List<LoraLinear> all = new ArrayList<>();
        for (Layer y : layers) all.addAll(List.of(y.q(), y.k(), y.v(), y.o(), y.gate(), y.up(), y.down()));
        return all;
    }

    /**
     * Trains (or applies) token rows of embed_tokens on their own (PEFT's trainable_token_indices):
     * the embedding reads those tokens from {@code rows}, and when the head is tied their logits use
     * the same rows. null removes them.
     */
    public void setTrainableTokens(TrainableRows rows) {
        this.trainableTokens = rows;
    }

    public TrainableRows trainableTokens() {
        return trainableTokens;
    }

    /** Replaces a weight (e.g. with a trainable parameter, or a merged one); the tied head follows embed_tokens. */
    public void replaceWeight(String name, Variable w) {
        switch (name) {
            case "model.embed_tokens.weight" -> {
                embedTokens = w;
                if (config.tieWordEmbeddings()) lmHead.setWeight(w);
            }
            case "model.norm.weight" -> norm = w;
            case "lm_head.weight" -> lmHead.setWeight(w);
            default -> {
                for (LoraLinear lin : projections()) {
                    if (lin.name().equals(name)) {
                        lin.setWeight(w);
                        return;
                    }
                }
                for (int l = 0; l < layers.size(); l++) {
                    Layer y = layers.get(l);
                    String p = "model.layers." + l + ".";
                    if (name.equals(p + "input_layernorm.weight")) layers.set(l, withNorms(y, w, y.postNorm()));
                    else if (name.equals(p + "post_attention_layernorm.weight")) layers.set(l, withNorms(y, y.inputNorm(), w));
                    else continue;
                    return;
                }
                throw new IllegalArgumentException("no weight named " + name);
            }
        }
    }

    private static Layer withNorms(Layer y, Variable in, Variable post) {
        return new Layer(in, y.q(), y.k(), y.v(), y.o(), post, y.gate(), y.up(), y.down());
    }

    /** Options of one forward call. */
    public record Pass(AttentionMask mask, KvCache cache, Rng dropout, boolean checkpointing) {
        public static Pass inference(KvCache cache, int newTokens, int window) {
            return new Pass(cache != null ? cache.mask(newTokens, window) : AttentionMask.causalMask().withWindow(window), cache, null, false);
        }
    }

    /**
     * Final-norm hidden states (B, T, dim) for token ids (B, T) at positions (B, T). With a cache, the
     * new keys and values are appended to it (the caller advances it).
     */
    public Variable hidden(Tensor ids, Tensor positions, Pass pass) {
        int b = ids.size(0), t = ids.size(1);
        int hd = config.headDim(), heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads();
        float eps = (float) config.rmsNormEps();
        Variable h = trainableTokens == null ? Embedding.apply(embedTokens, ids) : Embedding.apply(embedTokens, ids, trainableTokens);
        for (int l = 0; l < layers.size(); l++) {
            Layer y = layers.get(l);
            int layer = l;
            h = Checkpoint.apply(pass.checkpointing(), pass.dropout(), in -> {
                Variable x = RmsNorm.apply(in[0], y.inputNorm(), eps);
                Variable q = Rope.apply(y.q().apply(x, pass.dropout()).view(b, t, heads, hd), positions, invFreq);
                Variable k = Rope.apply(y.k().apply(x, pass.dropout()).view(b, t, kvHeads, hd), positions, invFreq);
                Variable v = y.v().apply(x, pass.dropout()).view(b, t, kvHeads, hd);
                if (pass.cache() != null) {
                    Tensor[] kv = pass.cache().append(layer, k.value(), v.value());
                    k = Variable.constant(kv[0]);
                    v = Variable.constant(kv[1]);
                }
                Variable a = Attention.apply(q, k, v, pass.mask()).reshape(b, t, heads * hd);
                Variable r = Arithmetic.add(in[0], y.o().apply(a, pass.dropout()));
                Variable x2 = RmsNorm.apply(r, y.postNorm(), eps);
                Variable mlp = SwiGlu.apply(y.gate().apply(x2, pass.dropout()), y.up().apply(x2, pass.dropout()));
                return Arithmetic.add(r, y.down().apply(mlp, pass.dropout()));
            }, h);
        }
        return RmsNorm.apply(h, norm, eps);
    }

    /** Logits (..., vocab) of hidden states (..., dim). */
    public Variable logits(Variable hidden) {
        Variable logits = lmHead.apply(hidden, null);
        if (trainableTokens != null && config.tieWordEmbeddings()) {
            logits = IndexCopy.lastDim(logits, trainableTokens.tokenIds(), Linear.apply(hidden, trainableTokens.values()));
        }
        return logits;
    }

    @Override
    public void close() throws Exception {
        if (weightsSource != null) weightsSource.close();
    }

    /** Weight lookup with shape checks that name the tensor. */
    private record Lookup(Map<String, Tensor> weights) {
        Variable get(String name, int... shape) throws JtuneException {
            Tensor t = weights.get(name);
            if (t == null) throw new JtuneException("checkpoint has no tensor " + name + " (expected shape " + java.util.Arrays.toString(shape) + ")");
            if (!java.util.Arrays.equals(t.shape(), shape)) {
                throw new JtuneException("tensor " + name + " has shape " + java.util.Arrays.toString(t.shape())
                        + ", config.json implies " + java.util.Arrays.toString(shape));
            }
            if (!t.dtype().isFloating()) throw new JtuneException("tensor " + name + " has dtype " + t.dtype() + "; expected F32, F16 or BF16");
            return Variable.constant(t).named(name);
        }

        LoraLinear linear(String name, int out, int in) throws JtuneException {
            return new LoraLinear(name, get(name, out, in));
        }
    }
}
