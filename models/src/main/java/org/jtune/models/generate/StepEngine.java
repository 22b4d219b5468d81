package org.jtune.models.generate;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jtune.models.CausalLM;
import org.jtune.models.SequenceChunk;
import org.jtune.tensor.Tensor;

/**
 * Generation as a sequence of model steps over a changing set of live sequences (continuous
 * batching, as Orca and vLLM schedule it): each {@link #step} feeds every decoding sequence its last
 * sampled token and spends what is left of the step's token budget on prompt prefill (long prompts
 * in chunks, so they do not stall the others), runs one batched forward ({@link CausalLM#step}),
 * samples a token for each sequence whose logits are ready, and retires the sequences that stopped.
 * Requests may be added and cancelled from any thread between steps; {@link #step} runs on one
 * thread. Each sequence has its own KV cache (released when it ends) and its own LoRA adapter.
 */
public final class StepEngine {
    /**
     * @param maxSequences  sequences decoded together at most (the rest wait their turn)
     * @param maxStepTokens tokens one step processes at most (decode tokens plus prefill chunks)
     */
    public record Limits(int maxSequences, int maxStepTokens) {
        public static final Limits DEFAULT = new Limits(64, 2048);

        public Limits {
            if (maxSequences < 1 || maxStepTokens < 1) throw new IllegalArgumentException("engine limits must be positive: " + maxSequences + ", " + maxStepTokens);
        }
    }

    private final CausalLM model;
    private final Limits limits;
    private final Queue<Sequence> incoming = new ConcurrentLinkedQueue<>();
    private final List<Sequence> live = new ArrayList<>(); // admitted: prefilling or decoding, in arrival order
    private final AtomicLong ids = new AtomicLong();
    private volatile int lastStepTokens, lastStepSequences;

    public StepEngine(CausalLM model, Limits limits) {
        this.model = model;
        this.limits = limits;
    }

    public CausalLM model() {
        return model;
    }

    /**
     * Queues a request; it joins the batch at the next step. Fails at once when its prompt does not
     * fit the model's context or names an adapter the model has not loaded.
     */
    public Sequence add(SequenceRequest request, Sequence.Listener listener) {
        int context = model.config().maxPositionEmbeddings();
        if (request.prompt().length > context) {
            throw new IllegalArgumentException("prompt of " + request.prompt().length + " tokens is longer than the model's context of "
                    + context + " tokens");
        }
        if (request.adapter() != null && !model.adapters().contains(request.adapter())) {
            throw new IllegalArgumentException("no adapter named " + request.adapter() + " is loaded (loaded: " + model.adapters().names() + ")");
        }
        Sequence s = new Sequence(ids.incrementAndGet(), request, listener);
        incoming.add(s);
        return s;
    }

    /** Asks for a sequence to stop; it ends (Finish.CANCELLED, cache released) at the next step. */
    public void cancel(Sequence s) {
        s.cancelRequested = true;
    }

    /** True when no sequence is waiting or running. */
    public boolean idle() {
        return incoming.isEmpty() && live.isEmpty();
    }

    /** Sequences admitted (prefilling or decoding). */
    public int running() {
        return live.size();
    }

    /** Requests not yet admitted. */
    public int waiting() {
        return incoming.size();
    }

    /** KV positions held by all live sequences. */
    public long cachedPositions() {
        long n = 0;
        for (Sequence s : live) n += s.cachedPositions();
        return n;
    }

    /** Tokens and sequences processed by the last step (batch size). */
    public int lastStepTokens() {
        return lastStepTokens;
    }

    public int lastStepSequences() {
        return lastStepSequences;
    }

    /** One scheduler step; does nothing when idle. */
    public void step() {
        admit();
        retireCancelled();
        List<Sequence> batch = new ArrayList<>();
        List<SequenceChunk> chunks = new ArrayList<>();
        int budget = limits.maxStepTokens();
        for (Sequence s : live) {             // decoding sequences first: one token each
            if (s.pending >= 0 && budget > 0) {
                batch.add(s);
                chunks.add(new SequenceChunk(new int[] {s.pending}, s.cache, s.request.adapter()));
                budget--;
            }
        }
        for (Sequence s : live) {             // then prompt prefill, in arrival order, chunked
            int left = s.request.prompt().length - s.prefilled;
            if (s.pending < 0 && left > 0 && budget > 0) {
                int t = Math.min(left, budget);
                int[] part = java.util.Arrays.copyOfRange(s.request.prompt(), s.prefilled, s.prefilled + t);
                batch.add(s);
                chunks.add(new SequenceChunk(part, s.cache, s.request.adapter()));
                budget -= t;
            }
        }
        lastStepSequences = batch.size();
        lastStepTokens = limits.maxStepTokens() - budget;
        if (batch.isEmpty()) return;
        Tensor logits = model.step(chunks);
        int vocab = logits.size(1);
        float[] all = logits.toFloatArray();
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = batch.get(i);
            int t = chunks.get(i).tokens().length;
            s.cache.advance(t);
            if (s.pending >= 0) s.pending = -1;
            else s.prefilled += t;
            if (s.prefilled < s.request.prompt().length) continue; // more prompt to prefill
            float[] row = java.util.Arrays.copyOfRange(all, i * vocab, (i + 1) * vocab);
            sample(s, row);
        }
        live.removeIf(this::retireIfFinished);
    }

    private void admit() {
        while (live.size() < limits.maxSequences() && !incoming.isEmpty()) {
            Sequence s = incoming.poll();
            int context = model.config().maxPositionEmbeddings();
            int capacity = Math.min(context, s.request.prompt().length + s.request.sampling().maxNewTokens());
            if (s.cancelRequested) {
                end(s, Sequence.Finish.CANCELLED);
                continue;
            }
            if (s.request.sampling().maxNewTokens() == 0) {
                end(s, Sequence.Finish.LENGTH);
                continue;
            }
            s.cache = model.newKvCache(Math.max(1, capacity));
            live.add(s);
        }
    }

    private void retireCancelled() {
        for (Iterator<Sequence> it = live.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelRequested) {
                end(s, Sequence.Finish.CANCELLED);
                it.remove();
            }
        }
    }

    private void sample(Sequence s, float[] row) {
        float[] raw = s.request.keepLogits() ? row.clone() : null;
        int tok = s.sampler.next(row, s.history, s.length);
        s.history[s.length++] = tok;
        if (s.listener != null) s.listener.onToken(s, tok, raw);
        SamplingConfig c = s.request.sampling();
        if (c.stopIds().contains(tok)) s.finish = Sequence.Finish.STOP_ID;
        else if (!c.stopStrings().isEmpty()) {
            String text = s.request.decoder().decode(s.outputIds());
            for (String stop : c.stopStrings()) {
                int at = text.indexOf(stop);
                if (at >= 0) {
                    s.finish = Sequence.Finish.STOP_STRING;
                    s.text = text.substring(0, at);
                    break;
                }
            }
        }
        // the token just sampled still has to be fed to the model: stop when that no longer fits
        if (s.finish == null && (s.generated() >= c.maxNewTokens() || s.length > s.cache.capacity())) s.finish = Sequence.Finish.LENGTH;
        if (s.finish == null) s.pending = tok;
    }

    private boolean retireIfFinished(Sequence s) {
        if (s.finish == null) return false;
        end(s, s.finish);
        return true;
    }

    private void end(Sequence s, Sequence.Finish why) {
        s.finish = why;
        if (s.cache != null) {
            s.cache.release();
            s.cache = null;
        }
        if (s.listener != null) s.listener.onFinish(s);
    }
}
