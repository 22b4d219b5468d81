package org.jtune.models.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.models.llama.KvCache;
import org.jtune.models.llama.LlamaModel;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * Autoregressive generation for a batch of prompts: the prompts are left-padded to one length and
 * prefilled in one batched pass, then every sequence decodes one token per step through the KV
 * cache until it emits a stop id, its text ends with a stop string, or it reaches the token limit.
 * Padding is masked out by segment ids, and positions start at 0 at each prompt's first token, so a
 * prompt gives the same tokens alone or in a batch.
 */
public final class Generator {
    /** Why a sequence ended. */
    public enum Finish { STOP_ID, STOP_STRING, LENGTH }

    /**
     * @param promptIds the prompt
     * @param outputIds generated ids, including the stop id that ended it (if any)
     * @param text      decoded output (stop string removed), or null without a decoder
     */
    public record Result(int[] promptIds, int[] outputIds, String text, Finish finish) {}

    /** Called for each generated token of each sequence, in order (streaming). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int sequence, int tokenId);
    }

    private Generator() {}

    /**
     * Generates for every prompt. {@code decoder} turns ids into text (for stop strings and the
     * result text; null when neither is needed).
     */
    public static List<Result> generate(LlamaModel model, List<int[]> prompts, SamplingConfig config,
                                        Decoder decoder, TokenListener listener)
            throws JtuneException {
        int b = prompts.size();
        if (b == 0) return List.of();
        int maxPrompt = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new JtuneException("empty prompt: a prompt needs at least one token (e.g. BOS)");
            maxPrompt = Math.max(maxPrompt, p.length);
        }
        var cfg = model.config();
        int context = cfg.maxPositionEmbeddings();
        int total = maxPrompt + config.maxNewTokens();
        if (maxPrompt > context) {
            throw new JtuneException("prompt of " + maxPrompt + " tokens is longer than the model's context of " + context + " tokens");
        }
        int capacity = Math.min(total, Math.max(context, maxPrompt));
        int window = cfg.slidingWindow() == null ? 0 : cfg.slidingWindow();
        KvCache cache = new KvCache(cfg.numHiddenLayers(), b, capacity, cfg.numKeyValueHeads(), cfg.headDim());
        int vocab = cfg.vocabSize();

        // prefill, left-padded
        int[] ids = new int[b * maxPrompt];
        int[] pos = new int[b * maxPrompt];
        for (int s = 0; s < b; s++) {
            int[] p = prompts.get(s);
            int pad = maxPrompt - p.length;
            for (int i = 0; i < maxPrompt; i++) {
                if (i < pad) cache.markPadding(s, i);
                else {
                    ids[s * maxPrompt + i] = p[i - pad];
                    pos[s * maxPrompt + i] = i - pad;
                }
            }
        }
        int[][] history = new int[b][];
        int[] historyLen = new int[b];
        List<List<Integer>> out = new ArrayList<>();
        Sampler[] samplers = new Sampler[b];
        for (int s = 0; s < b; s++) {
            int[] p = prompts.get(s);
            history[s] = Arrays.copyOf(p, p.length + config.maxNewTokens());
            historyLen[s] = p.length;
            out.add(new ArrayList<>());
            samplers[s] = new Sampler(config.withSeed(config.seed() + s));
        }
        Finish[] finish = new Finish[b];
        String[] texts = new String[b];
        int active = b;
        try (var g = NoGrad.enter()) {
            float[][] logits = lastLogits(model, Tensor.ofInts(ids, b, maxPrompt), Tensor.ofInts(pos, b, maxPrompt),
                    cache, maxPrompt, window, vocab);
            cache.advance(maxPrompt);
            for (int step = 0; step < config.maxNewTokens() && active > 0; step++) {
                int[] next = new int[b];
                int[] nextPos = new int[b];
                for (int s = 0; s < b; s++) {
                    if (finish[s] != null) continue;
                    int tok = samplers[s].next(logits[s], history[s], historyLen[s]);
                    next[s] = tok;
                    nextPos[s] = historyLen[s];
                    history[s][historyLen[s]++] = tok;
                    out.get(s).add(tok);
                    if (listener != null) listener.onToken(s, tok);
                    if (config.stopIds().contains(tok)) finish[s] = Finish.STOP_ID;
                    else if (decoder != null && !config.stopStrings().isEmpty()) {
                        String text = decoder.decode(toArray(out.get(s)));
                        for (String stop : config.stopStrings()) {
                            int at = text.indexOf(stop);
                            if (at >= 0) {
                                finish[s] = Finish.STOP_STRING;
                                texts[s] = text.substring(0, at);
                                break;
                            }
                        }
                    }
                    if (finish[s] != null) active--;
                }
                if (active == 0 || step + 1 == config.maxNewTokens() || cache.length() >= cache.capacity()) break;
                logits = lastLogits(model, Tensor.ofInts(next, b, 1), Tensor.ofInts(nextPos, b, 1), cache, 1, window, vocab);
                cache.advance(1);
            }
        }
        List<Result> results = new ArrayList<>();
        for (int s = 0; s < b; s++) {
            int[] o = toArray(out.get(s));
            Finish f = finish[s] != null ? finish[s] : Finish.LENGTH;
            String text = texts[s] != null ? texts[s] : decoder != null ? decoder.decode(o) : null;
            results.add(new Result(prompts.get(s), o, text, f));
        }
        return results;
    }

    /** Turns generated ids into text. */
    @FunctionalInterface
    public interface Decoder {
        String decode(int[] ids);
    }

    private static float[][] lastLogits(LlamaModel model, Tensor ids, Tensor positions, KvCache cache, int t, int window, int vocab) {
        var hidden = model.hidden(ids, positions, LlamaModel.Pass.inference(cache, t, window));
        var last = org.jtune.autograd.Variable.constant(hidden.value().narrow(1, t - 1, 1));
        Tensor logits = model.logits(last).value(); // (B, 1, V)
        int b = ids.size(0);
        float[] all = logits.to(DType.F32).toFloatArray();
        float[][] rows = new float[b][];
        for (int s = 0; s < b; s++) rows[s] = Arrays.copyOfRange(all, s * vocab, (s + 1) * vocab);
        return rows;
    }

    private static int[] toArray(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }
}
