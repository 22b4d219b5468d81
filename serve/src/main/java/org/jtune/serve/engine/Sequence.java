package org.jtune.serve.engine;

import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.generate.Sampler;
import org.jtune.models.llama.KvCache;
import org.jtune.models.llama.LlamaModel;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * One live sequence of {@link InterleavedEngine}: its own KV cache (batch 1, sized to prompt plus max
 * new tokens), sampler and token history. {@link #prefill} runs the prompt and yields the first token;
 * each {@link #step} feeds the last token and yields the next. Engine thread only.
 */
final class Sequence {
    final InterleavedEngine.Pending pending;
    private final LlamaModel model;
    private final KvCache cache;
    private final Sampler sampler;
    private final int window;
    private final int[] history;
    private int length;
    private int generated;
    private FinishReason finish;

    Sequence(InterleavedEngine.Pending pending, LlamaModel model) {
        this.pending = pending;
        this.model = model;
        var cfg = model.config();
        var request = pending.request;
        int capacity = request.promptIds().length + request.sampling().maxNewTokens();
        this.cache = new KvCache(cfg.numHiddenLayers(), 1, capacity, cfg.numKeyValueHeads(), cfg.headDim());
        this.sampler = new Sampler(request.sampling());
        this.window = cfg.slidingWindow() == null ? 0 : cfg.slidingWindow();
        this.history = java.util.Arrays.copyOf(request.promptIds(), capacity);
        this.length = request.promptIds().length;
    }

    /** KV positions this sequence holds. */
    int capacity() {
        return cache.capacity();
    }

    int generated() {
        return generated;
    }

    /** Why it ended, or null while it runs. */
    FinishReason finish() {
        return finish;
    }

    /** Runs the whole prompt; returns the first generated token. */
    GeneratedToken prefill() {
        int[] prompt = pending.request.promptIds();
        int[] pos = new int[prompt.length];
        for (int i = 0; i < pos.length; i++) pos[i] = i;
        return sample(forward(prompt, pos));
    }

    /** Feeds the last generated token; returns the next one. */
    GeneratedToken step() {
        return sample(forward(new int[] {history[length - 1]}, new int[] {length - 1}));
    }

    private float[] forward(int[] ids, int[] positions) {
        int t = ids.length;
        try (var g = NoGrad.enter()) {
            var hidden = model.hidden(Tensor.ofInts(ids, 1, t), Tensor.ofInts(positions, 1, t), LlamaModel.Pass.inference(cache, t, window));
            var last = Variable.constant(hidden.value().narrow(1, t - 1, 1));
            float[] logits = model.logits(last).value().to(DType.F32).toFloatArray();
            cache.advance(t);
            return logits;
        }
    }

    private GeneratedToken sample(float[] logits) {
        var request = pending.request;
        // log-probabilities come from the raw logits: the sampler may modify its scratch row
        float[] raw = request.logprobs() ? logits.clone() : null;
        int token = sampler.next(logits, history, length);
        long now = System.nanoTime();
        history[length++] = token;
        generated++;
        var sampling = request.sampling();
        if (sampling.stopIds().contains(token)) finish = FinishReason.STOP;
        else if (generated >= sampling.maxNewTokens() || length >= cache.capacity()) finish = FinishReason.LENGTH;
        return raw == null ? GeneratedToken.plain(token, now) : TokenLogprobs.of(raw, token, request.topLogprobs(), now);
    }
}
