package org.jtune.models.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jtune.models.CausalLM;
import org.jtune.models.SequenceChunk;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.kv.PagedKvCache;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.StepBufferPool;

/**
 * Generation as a sequence of model steps over a changing set of live sequences (continuous
 * batching, as Orca and vLLM schedule it). Each {@link #step} feeds every sequence the tokens it has
 * not fed yet — the token it sampled last, or a chunk of its prompt — decoding sequences first and
 * prompts with what is left of the step's token budget (long prompts go in chunks, so they do not
 * stall the others), runs one batched forward ({@link CausalLM#step}), samples a token for each
 * sequence that has fed everything (the draws spread over the thread pool; listeners hear of them on
 * the stepping thread, in batch order), and retires the sequences that stopped.
 *
 * <p>KV memory: with a byte budget the engine keeps keys and values in a {@link KvBlockPool} of
 * fixed-size blocks; sequences that start with the same tokens share the blocks of that prefix
 * (computed once), and when the pool runs out the most recently admitted sequence gives its blocks
 * back and is recomputed later (preemption by recomputation, as vLLM does). Without a budget each
 * sequence has a growing buffer of its own.
 *
 * <p>Requests may be added and cancelled from any thread; {@link #step} runs on one thread.
 */
public final class StepEngine {
    /**
     * @param maxSequences  sequences decoded together at most (the rest wait their turn)
     * @param maxStepTokens tokens one step processes at most (decode tokens plus prompt chunks)
     * @param kvBudgetBytes bytes of KV memory for all sequences (0: no budget, one growing buffer per sequence)
     * @param kvBlockSize   positions per KV block when there is a budget
     * @param maxPrefillWhileDecoding prompt tokens one step takes at most while other sequences are decoding: a long
     *                      prompt then delays their next token by one step of this many tokens at a time, not by its
     *                      whole prefill (on two CPU cores a 2048-token step of a 1B model takes 10–20 s)
     */
    public record Limits(int maxSequences, int maxStepTokens, long kvBudgetBytes, int kvBlockSize, int maxPrefillWhileDecoding) {
        public static final Limits DEFAULT = new Limits(64, 2048, 0, 16);

        public Limits {
            if (maxSequences < 1 || maxStepTokens < 1 || kvBudgetBytes < 0 || kvBlockSize < 1 || maxPrefillWhileDecoding < 1) {
                throw new IllegalArgumentException("engine limits must be positive: " + maxSequences + ", " + maxStepTokens + ", "
                        + kvBudgetBytes + ", " + kvBlockSize + ", " + maxPrefillWhileDecoding);
            }
        }

        /** No separate limit on prompt tokens while others decode (the whole step's budget). */
        public Limits(int maxSequences, int maxStepTokens, long kvBudgetBytes, int kvBlockSize) {
            this(maxSequences, maxStepTokens, kvBudgetBytes, kvBlockSize, maxStepTokens);
        }

        public Limits(int maxSequences, int maxStepTokens) {
            this(maxSequences, maxStepTokens, 0, 16);
        }
    }

    private final CausalLM model;
    private final Limits limits;
    private final KvBlockPool pool; // null without a budget
    private final Queue<Sequence> incoming = new ConcurrentLinkedQueue<>();
    private final Deque<Sequence> preempted = new ArrayDeque<>(); // go before new arrivals
    private final List<Sequence> live = new ArrayList<>();        // admitted, in admission order
    private final AtomicLong ids = new AtomicLong();
    /**
     * Buffers of the steps' intermediate tensors, kept across steps (null with -Djtune.stepPool=false), at most a quarter
     * of the heap: the pool holds its loans strongly until a step ends, so a step larger than that leaves the rest of
     * its buffers to the collector.
     */
    private final StepBufferPool stepPool = StepBufferPool.enabled() ? new StepBufferPool(Runtime.getRuntime().maxMemory() / 4) : null;
    private volatile int lastStepTokens, lastStepSequences;
    private long preemptions;

    public StepEngine(CausalLM model, Limits limits) {
        this.model = model;
        this.limits = limits;
        this.pool = limits.kvBudgetBytes() > 0 ? KvBlockPool.forBudget(model.config(), limits.kvBudgetBytes(), limits.kvBlockSize(), model.kvCacheType()) : null;
    }

    public CausalLM model() {
        return model;
    }

    /**
     * Queues a request; it joins the batch at a coming step. Fails at once when its prompt does not
     * fit the model's context or names an adapter the model has not loaded.
     */
    public Sequence add(SequenceRequest request, Sequence.Listener listener) {
        int context = model.config().maxPositionEmbeddings();
        if (request.prompt().length > context) {
            throw new IllegalArgumentException("prompt of " + request.prompt().length + " tokens is longer than the model's context of "
                    + context + " tokens");
        }
        long positions = (long) request.prompt().length + request.sampling().maxNewTokens();
        if (positions > kvCapacity()) {
            // alone in the pool it would preempt itself at its pool's end and start over, step after step
            throw new IllegalArgumentException("prompt of " + request.prompt().length + " tokens plus up to " + request.sampling().maxNewTokens()
                    + " new ones need " + positions + " KV positions; the KV budget of " + limits.kvBudgetBytes() + " bytes holds " + kvCapacity());
        }
        if (request.adapter() != null && !model.adapters().contains(request.adapter())) {
            throw new IllegalArgumentException("no adapter named " + request.adapter() + " is loaded (loaded: " + model.adapters().names() + ")");
        }
        Sequence s = new Sequence(ids.incrementAndGet(), request, listener);
        incoming.add(s);
        return s;
    }

    /** Asks for a sequence to stop; it ends (Finish.CANCELLED, memory released) at the next step. */
    public void cancel(Sequence s) {
        s.cancelRequested = true;
    }

    /** True when no sequence is waiting or running. */
    public boolean idle() {
        return incoming.isEmpty() && preempted.isEmpty() && live.isEmpty();
    }

    /** Sequences admitted (feeding or decoding). */
    public int running() {
        return live.size();
    }

    /** Requests not admitted yet (new, or preempted and waiting to be recomputed). */
    public int waiting() {
        return incoming.size() + preempted.size();
    }

    /** KV positions held by the live sequences. */
    public long cachedPositions() {
        long n = 0;
        for (Sequence s : live) n += s.cachedPositions();
        return n;
    }

    /** KV positions the budget holds for all sequences together (Long.MAX_VALUE without a budget): the most one sequence can use. */
    public long kvCapacity() {
        return pool == null ? Long.MAX_VALUE : (long) pool.totalBlocks() * pool.blockSize();
    }

    /** The KV block pool, or null when the engine has no KV budget. */
    public KvBlockPool kvPool() {
        return pool;
    }

    /** Times a sequence gave its KV memory back so that others could go on. */
    public long preemptions() {
        return preemptions;
    }

    /** Tokens and sequences processed by the last step (the batch size). */
    public int lastStepTokens() {
        return lastStepTokens;
    }

    public int lastStepSequences() {
        return lastStepSequences;
    }

    /**
     * One scheduler step; does nothing when idle. Fails (IllegalStateException naming the file) when a
     * memory-mapped weight file was truncated since it was mapped, before any kernel reads it.
     */
    public void step() {
        org.jtune.models.io.MappedWeights.checkIntactUnchecked();
        retireCancelled();
        admit();
        List<Sequence> batch = new ArrayList<>();
        List<SequenceChunk> chunks = new ArrayList<>();
        int budget = limits.maxStepTokens();
        for (int pass = 0; pass < 2; pass++) { // decoding sequences (one token to feed) first, then prompts
            // prompts take at most maxPrefillWhileDecoding tokens of a step that also decodes
            int cap = pass == 1 && !batch.isEmpty() ? limits.maxPrefillWhileDecoding() : Integer.MAX_VALUE;
            for (Sequence s : List.copyOf(live)) {
                int left = s.length - s.fed, room = Math.min(budget, cap);
                if (room == 0 || left <= 0 || (pass == 0) != (left == 1) || !live.contains(s)) continue;
                int t = Math.min(left, room);
                if (!reserve(s, t)) continue; // s waits (preempted) until memory comes back
                batch.add(s);
                chunks.add(new SequenceChunk(Arrays.copyOfRange(s.history, s.fed, s.fed + t), s.cache, s.request.adapter()));
                budget -= t;
                cap -= t;
            }
        }
        for (int i = batch.size() - 1; i >= 0; i--) { // a later reservation may have preempted an earlier member
            if (!live.contains(batch.get(i))) {
                batch.remove(i);
                budget += chunks.remove(i).tokens().length;
            }
        }
        lastStepSequences = batch.size();
        lastStepTokens = limits.maxStepTokens() - budget;
        if (batch.isEmpty()) return;
        // the step's activations are large (a 512-token prefill of a 1B model allocates ~65 MB per layer) and die with
        // the step: served from buffers kept across steps, they stop driving the young collector and, with a small
        // young generation (the launcher's -Xmn64m), stop being promoted and collected in full collections
        float[] all = stepPool != null ? stepPool.step(() -> model.step(chunks).toFloatArray()) : model.step(chunks).toFloatArray();
        int vocab = all.length / chunks.size(); // one row of logits per chunk
        List<Integer> ready = new ArrayList<>(); // rows of sequences that have fed everything: they sample
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = batch.get(i);
            int[] fedNow = chunks.get(i).tokens();
            s.cache.advance(fedNow);
            s.fed += fedNow.length;
            if (s.fed == s.length) ready.add(i);
        }
        // the draws are independent (each sequence has its sampler and generator): spread them over the pool;
        // listeners and stop checks then run here, in batch order
        int[] tokens = new int[ready.size()];
        float[][] raw = new float[ready.size()][];
        Parallel.forRange(ready.size(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int i = ready.get(r);
                Sequence s = batch.get(i);
                float[] row = Arrays.copyOfRange(all, i * vocab, (i + 1) * vocab);
                if (s.request.keepLogits()) raw[r] = row.clone();
                for (LogitsProcessor.State p : s.processors) p.process(row);
                tokens[r] = s.sampler.next(row, s.history, s.length);
            }
        });
        for (int r = 0; r < ready.size(); r++) accept(batch.get(ready.get(r)), tokens[r], raw[r]);
        live.removeIf(this::retireIfFinished);
    }

    /** Admits waiting sequences (preempted ones first) while there is room in the batch and in KV memory. */
    private void admit() {
        while (live.size() < limits.maxSequences()) {
            Sequence s = !preempted.isEmpty() ? preempted.peekFirst() : incoming.peek();
            if (s == null) return;
            if (s.cancelRequested) {
                (preempted.isEmpty() ? incoming : preempted).poll();
                end(s, Sequence.Finish.CANCELLED);
                continue;
            }
            if (s.request.sampling().maxNewTokens() == 0) {
                (preempted.isEmpty() ? incoming : preempted).poll();
                end(s, Sequence.Finish.LENGTH);
                continue;
            }
            int capacity = Math.max(1, Math.min(model.config().maxPositionEmbeddings(), s.request.prompt().length + s.request.sampling().maxNewTokens()));
            if (pool != null) {
                PagedKvCache cache = new PagedKvCache(pool, capacity);
                int reused = cache.reusePrefix(Arrays.copyOf(s.history, s.length));
                if (!cache.reserve(Math.min(s.length - reused, limits.maxStepTokens())) && !live.isEmpty()) {
                    cache.release(); // wait until running sequences give memory back
                    return;
                }
                s.cache = cache;
                s.fed = reused;
                if (s.preemptions == 0) s.reused = reused;
            } else {
                s.cache = model.newKvCache(capacity);
                s.fed = 0;
            }
            (preempted.isEmpty() ? incoming : preempted).poll();
            live.add(s);
        }
    }

    /**
     * Makes KV room for t more positions of s, preempting the most recently admitted other sequences
     * when the pool is out of blocks; when nothing else can give memory back, s itself waits.
     */
    private boolean reserve(Sequence s, int t) {
        if (pool == null) return true;
        PagedKvCache cache = (PagedKvCache) s.cache;
        while (!cache.reserve(t)) {
            Sequence victim = null;
            for (int i = live.size() - 1; i >= 0 && victim == null; i--) if (live.get(i) != s) victim = live.get(i);
            if (victim == null) {
                if (cache.blocks() == 0 && live.size() == 1) {
                    throw new IllegalStateException("the KV budget of " + limits.kvBudgetBytes() + " bytes cannot hold " + t
                            + " positions of one sequence; raise it or lower the step's token budget");
                }
                preempt(s);
                return false;
            }
            preempt(victim);
        }
        return true;
    }

    private void preempt(Sequence s) {
        s.cache.release();
        s.cache = null;
        s.fed = 0;
        s.preemptions++;
        preemptions++;
        live.remove(s);
        preempted.addFirst(s);
    }

    private void retireCancelled() {
        for (Iterator<Sequence> it = live.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelRequested) {
                end(s, Sequence.Finish.CANCELLED);
                it.remove();
            }
        }
        for (Iterator<Sequence> it = preempted.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelRequested) {
                end(s, Sequence.Finish.CANCELLED);
                it.remove();
            }
        }
    }

    /** Appends a sampled token, tells the listener, and decides whether the sequence stops. */
    private void accept(Sequence s, int tok, float[] raw) {
        if (s.length == s.history.length) s.history = Arrays.copyOf(s.history, s.length + Math.max(256, s.length / 2));
        s.history[s.length++] = tok;
        for (LogitsProcessor.State p : s.processors) p.accept(tok);
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
