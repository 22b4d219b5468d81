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
 * the stepping thread, in batch order), and retires the sequences that stopped. A greedy sequence that asks for it
 * ({@link SamplingConfig#promptLookup}) feeds drafted tokens beside its next one and keeps those the model confirms
 * (speculative decoding by prompt lookup, see {@link #draft}): the same tokens in fewer steps.
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
    private long draftedTokens, acceptedDrafts;
    /** Most prompt tokens of a promptLogits sequence per step: their logit rows stay within {@link #SCORED_FLOATS}. */
    private final int scoredChunk;
    static final long SCORED_FLOATS = 1L << 25; // 128 MiB of rows: 1024 positions of a 32k vocabulary, 261 of a 128k one

    public StepEngine(CausalLM model, Limits limits) {
        this.model = model;
        this.limits = limits;
        this.scoredChunk = (int) Math.max(1, SCORED_FLOATS / Math.max(1, model.config().vocabSize()));
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

    /** Tokens drafted by prompt lookup so far, and those of them the model confirmed. */
    public long draftedTokens() {
        return draftedTokens;
    }

    public long acceptedDrafts() {
        return acceptedDrafts;
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
        List<Boolean> checksDrafts = new ArrayList<>(); // per chunk: it checks drafts (else its rows beyond the last are prompt logits)
        int budget = limits.maxStepTokens();
        int decoding = 0;
        for (Sequence s : live) if (s.length - s.fed == 1) decoding++;
        boolean drafts = decoding <= MAX_DRAFTING_SEQUENCES;
        for (int pass = 0; pass < 2; pass++) { // decoding sequences (one token to feed) first, then prompts
            // prompts take at most maxPrefillWhileDecoding tokens of a step that also decodes
            int cap = pass == 1 && !batch.isEmpty() ? limits.maxPrefillWhileDecoding() : Integer.MAX_VALUE;
            for (Sequence s : List.copyOf(live)) {
                int left = s.length - s.fed, room = Math.min(budget, cap);
                if (room == 0 || left <= 0 || (pass == 0) != (left == 1) || !live.contains(s)) continue;
                int t = Math.min(left, room);
                boolean scoring = s.request.promptLogits() && s.promptReported < s.request.prompt().length - 1;
                if (scoring) t = Math.min(t, scoredChunk); // a logit row per token: bounded, as a 128k vocabulary's rows are large
                int[] draft = pass == 0 && drafts ? draft(s, room - 1) : NO_DRAFT;
                if (draft.length > 0 && !reserveDraft(s, 1 + draft.length)) draft = NO_DRAFT;
                if (draft.length == 0 && !reserve(s, t)) continue; // s waits (preempted) until memory comes back
                batch.add(s);
                checksDrafts.add(draft.length > 0);
                if (draft.length == 0) {
                    chunks.add(new SequenceChunk(Arrays.copyOfRange(s.history, s.fed, s.fed + t), s.cache, s.request.adapter(), scoring ? t : 1));
                } else {
                    int[] fed = new int[1 + draft.length];
                    fed[0] = s.history[s.fed];
                    System.arraycopy(draft, 0, fed, 1, draft.length);
                    chunks.add(new SequenceChunk(fed, s.cache, s.request.adapter(), fed.length));
                    t = fed.length;
                }
                budget -= t;
                cap -= t;
            }
        }
        for (int i = batch.size() - 1; i >= 0; i--) { // a later reservation may have preempted an earlier member
            if (!live.contains(batch.get(i))) {
                batch.remove(i);
                checksDrafts.remove(i);
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
        int rows = 0;
        int[] firstRow = new int[chunks.size()];
        for (int i = 0; i < chunks.size(); i++) {
            firstRow[i] = rows;
            rows += chunks.get(i).logitRows();
        }
        int vocab = all.length / rows;
        List<Integer> ready = new ArrayList<>(); // rows of sequences that have fed everything: they sample
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = batch.get(i);
            int[] fedNow = chunks.get(i).tokens();
            if (checksDrafts.get(i)) { // drafts checked: the cache keeps what is confirmed (below)
                ready.add(i);
                continue;
            }
            if (s.request.promptLogits() && chunks.get(i).logitRows() == fedNow.length) reportPromptLogits(s, all, firstRow[i], fedNow.length, vocab);
            s.cache.advance(fedNow);
            s.fed += fedNow.length;
            if (s.fed == s.length) ready.add(i);
        }
        // the draws are independent (each sequence has its sampler and generator): spread them over the pool;
        // listeners and stop checks then run here, in batch order
        int[][] tokens = new int[ready.size()][];
        float[][][] raw = new float[ready.size()][][];
        Parallel.forRange(ready.size(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int i = ready.get(r);
                Sequence s = batch.get(i);
                SequenceChunk c = chunks.get(i);
                // row j follows the chunk's token j (of its last logitRows): with drafts, the token drawn there is kept
                // while the draft before it was right, so the first wrong draft's row gives the last token; a prompt
                // chunk samples from its last row only (the others were the prompt's logits)
                int n = 0;
                tokens[r] = new int[c.logitRows()];
                raw[r] = new float[c.logitRows()][];
                for (int j = checksDrafts.get(i) ? 0 : c.logitRows() - 1; j < c.logitRows(); j++) {
                    int at = firstRow[i] + j;
                    float[] row = Arrays.copyOfRange(all, at * vocab, (at + 1) * vocab);
                    if (s.request.keepLogits()) raw[r][n] = row.clone();
                    for (LogitsProcessor.State p : s.processors) p.process(row);
                    tokens[r][n++] = s.sampler.next(row, s.history, s.length);
                    int offset = c.tokens().length - c.logitRows() + j + 1; // the chunk's token after this row
                    if (offset >= c.tokens().length || c.tokens()[offset] != tokens[r][n - 1]) break;
                }
                tokens[r] = Arrays.copyOf(tokens[r], n);
            }
        });
        for (int r = 0; r < ready.size(); r++) {
            int i = ready.get(r);
            Sequence s = batch.get(i);
            SequenceChunk c = chunks.get(i);
            int taken = 0;
            for (int tok : tokens[r]) {
                accept(s, tok, raw[r][taken++]);
                if (s.finish != null) break;
            }
            if (checksDrafts.get(i)) {
                // the fed token and the drafts confirmed before the last token taken: their keys and values are right
                s.cache.advance(Arrays.copyOf(c.tokens(), taken));
                s.fed += taken;
                int drafted = c.tokens().length - 1, right = taken - 1;
                draftedTokens += drafted;
                acceptedDrafts += right;
                // a wrong draft costs the step its extra positions: a step whose drafts were mostly wrong counts as a miss
                // (draft less, and pause), one whose drafts were all right as a hit (draft more)
                int max = s.request.sampling().promptLookup();
                boolean miss = 2 * right < drafted;
                s.draftLimit = miss ? Math.max(1, s.draftLimit / 2) : right == drafted ? Math.min(max, s.draftLimit * 2) : s.draftLimit;
                s.draftMisses = miss ? s.draftMisses + 1 : 0;
                s.draftPause = miss ? Math.min(16, 1 << s.draftMisses) : 0;
            }
        }
        live.removeIf(this::retireIfFinished);
    }

    private static final int[] NO_DRAFT = new int[0];

    /**
     * Prompt lookup drafts only in steps that decode at most this many sequences: a step of one or a few reads the weights
     * for little work, so checking drafts costs little more; a step of many is already compute-bound, and drafts would
     * only add work.
     */
    static final int MAX_DRAFTING_SEQUENCES = 4;

    /**
     * Speculative decoding by prompt lookup (as Hugging Face's prompt_lookup_num_tokens and vLLM's n-gram drafts, asked
     * for by {@link SamplingConfig#promptLookup}): a greedy sequence whose last 3 (else 2) tokens already occurred
     * earlier in its prompt or output drafts the tokens that followed their latest occurrence (read on as a repeating
     * pattern when they reach the end: a loop drafts its next turn), and one step checks them all — the model reads its
     * weights once for the next token and every draft. The drafts that equal what greedy decoding picks are kept, plus
     * the token after them, so the output is the same tokens.
     *
     * <p>A step of several positions costs more than one on a CPU (1.1B shape, two cores: 1.5 × for 3 to 5 positions
     * with BF16 weights, 3 × with Q4_0), so a one-token match (too often wrong) drafts nothing, and a sequence whose
     * drafts were mostly wrong (fewer than half right) halves its draft length and drafts nothing for the next 2, 4, …
     * 16 steps as such misses go on; all right doubles the length again (up to the request's limit). At most {@code room} drafts, none past the
     * token limit or the cache; none for a sequence that samples or whose logits are processed (penalties, JSON
     * constraints), and none in a step that decodes more than {@link #MAX_DRAFTING_SEQUENCES} sequences.
     */
    private int[] draft(Sequence s, int room) {
        SamplingConfig c = s.request.sampling();
        int max = Math.min(Math.min(s.draftLimit, room), c.maxNewTokens() - s.generated() - 1);
        if (s.cache != null) max = Math.min(max, s.cache.capacity() - s.length);
        if (max <= 0 || c.temperature() != 0f || c.repetitionPenalty() != 1f || !s.processors.isEmpty()) return NO_DRAFT;
        if (s.draftPause > 0) {
            s.draftPause--;
            return NO_DRAFT;
        }
        int[] h = s.history;
        int len = s.length;
        for (int n = Math.min(3, len - 1); n >= 2; n--) {
            for (int p = len - n - 1; p >= 0; p--) { // latest earlier occurrence of h[len - n, len)
                int k = 0;
                while (k < n && h[p + k] == h[len - n + k]) k++;
                if (k < n) continue;
                // what followed it, read on as a repeating pattern past the end (a run of one token drafts that token again)
                int from = p + n, period = len - from;
                int[] draft = new int[max];
                for (int i = 0; i < max; i++) draft[i] = h[from + i % period];
                return draft;
            }
        }
        return NO_DRAFT;
    }

    /** KV room for a decode token and its drafts, without preempting anyone (no room: decode without drafts). */
    private boolean reserveDraft(Sequence s, int t) {
        return pool == null || ((PagedKvCache) s.cache).reserve(t);
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
                int reused = s.request.promptLogits() ? 0 : cache.reusePrefix(Arrays.copyOf(s.history, s.length));
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

    /**
     * Hands the listener the rows of a prompt chunk just computed (rows from row {@code first} of {@code all}, one per fed
     * token, before s.fed moves): the row at position p predicts prompt token p + 1; rows already reported (a preempted
     * sequence recomputes its prompt) and the row after the prompt (its first token is sampled from it) are skipped.
     */
    private static void reportPromptLogits(Sequence s, float[] all, int first, int rows, int vocab) {
        for (int j = 0; j < rows; j++) {
            int next = s.fed + j + 1;
            if (next >= s.request.prompt().length || next <= s.promptReported) continue;
            s.promptReported = next;
            if (s.listener != null) s.listener.onPromptLogits(s, next, Arrays.copyOfRange(all, (first + j) * vocab, (first + j + 1) * vocab));
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
