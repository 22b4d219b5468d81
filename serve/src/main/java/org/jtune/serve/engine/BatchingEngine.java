package org.jtune.serve.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.models.generate.SequenceRequest;
import org.jtune.models.generate.StepEngine;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.kv.KvCacheType;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;

/**
 * {@link Engine} over the models module's {@link StepEngine} (continuous batching: sequences join and
 * leave between steps, long prompts are prefilled in chunks, each sequence routes to its own adapter
 * in the same batch, KV memory in blocks under a budget when one is given).
 *
 * <p>One scheduler thread owns the step engine. Before each step it asks the {@link WaitingQueue}
 * for work, moving requests into the step engine while fewer than {@code maxBatch} are there; the
 * waiting queue is the bounded part that refuses (HTTP 429) when full. The step engine's listener
 * turns each sampled token into a {@link GeneratedToken} (with log-probabilities of the raw logits
 * when asked) for the request's {@link TokenSink}. Cancelling a waiting request removes it; cancelling
 * a running one asks the step engine, which frees its KV memory at its next step.
 */
public final class BatchingEngine implements Engine {
    /**
     * @param maxBatch      most sequences in the step engine at once (decoding or prefilling)
     * @param maxQueue      most requests waiting to start (more are refused: HTTP 429)
     * @param maxStepTokens most tokens one step processes (decode tokens plus prompt chunks)
     * @param kvBudgetBytes KV memory for all sequences in blocks (0: a growing buffer per sequence)
     * @param kvCacheType   the element type of the KV cache: F32, or BF16 or F16 at half the memory (the model's caches from then
     *                      on); null: the model's own ({@link KvCacheType#auto})
     */
    public record Options(int maxBatch, int maxQueue, int maxStepTokens, long kvBudgetBytes, DType kvCacheType, int promptLookup) {
        public static final int KV_BLOCK_TOKENS = 16;

        public Options {
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
            if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
            if (maxStepTokens < 1) throw new IllegalArgumentException("max step tokens must be >= 1, got " + maxStepTokens);
            if (kvBudgetBytes < 0) throw new IllegalArgumentException("KV budget must be >= 0, got " + kvBudgetBytes);
            if (kvCacheType != null) KvCacheType.check(kvCacheType);
            if (promptLookup < 0) throw new IllegalArgumentException("prompt lookup must be >= 0, got " + promptLookup);
        }

        /** The model's own KV cache type, no prompt lookup. */
        public Options(int maxBatch, int maxQueue, int maxStepTokens, long kvBudgetBytes) {
            this(maxBatch, maxQueue, maxStepTokens, kvBudgetBytes, null, 0);
        }

        public Options(int maxBatch, int maxQueue) {
            this(maxBatch, maxQueue, StepEngine.Limits.DEFAULT.maxStepTokens(), 0);
        }
    }

    /** A request between submit and finish: its sink, its step-engine sequence once started, and a guard that it finishes once. */
    final class Pending implements Submission, Sequence.Listener {
        final GenerationRequest request;
        final TokenSink sink;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();
        volatile Sequence sequence;

        Pending(GenerationRequest request, TokenSink sink) {
            this.request = request;
            this.sink = sink;
        }

        @Override
        public String id() {
            return request.id();
        }

        @Override
        public void cancel() {
            if (!cancelled.compareAndSet(false, true)) return;
            if (waiting.remove(this)) finish(FinishReason.CANCELLED, 0, null);
            else {
                Sequence s = sequence;
                if (s != null) steps.cancel(s); // else: the scheduler sees the flag when it takes it
            }
        }

        @Override
        public void onToken(Sequence s, int tokenId, float[] logits) {
            long now = System.nanoTime();
            generatedTokens.incrementAndGet();
            rate.add(1, now);
            GeneratedToken t = logits == null ? GeneratedToken.plain(tokenId, now) : TokenLogprobs.of(logits, tokenId, request.topLogprobs(), now);
            try {
                sink.onToken(t);
            } catch (RuntimeException e) {
                steps.cancel(s);
            }
        }

        @Override
        public void onPromptLogits(Sequence s, int position, float[] logits) {
            GeneratedToken t = TokenLogprobs.of(logits, request.promptIds()[position], request.topLogprobs(), System.nanoTime());
            try {
                sink.onPromptToken(position, t);
            } catch (RuntimeException e) {
                steps.cancel(s);
            }
        }

        @Override
        public void onFinish(Sequence s) {
            started.remove(this);
            publish(); // its KV memory is released by now: the gauges are current when the sink hears the end
            FinishReason r = switch (s.finish()) {
                case STOP_ID, STOP_STRING -> FinishReason.STOP;
                case LENGTH -> FinishReason.LENGTH;
                case CANCELLED -> FinishReason.CANCELLED;
            };
            finish(r, s.generated(), null);
        }

        void finish(FinishReason reason, int completionTokens, String error) {
            if (!finished.compareAndSet(false, true)) return;
            finishedRequests.incrementAndGet();
            if (reason == FinishReason.CANCELLED) cancelledRequests.incrementAndGet();
            try {
                sink.onFinish(reason, request.promptIds().length, completionTokens, error);
            } finally {
                if (inFlight.decrementAndGet() == 0) {
                    synchronized (idle) {
                        idle.notifyAll();
                    }
                }
            }
        }
    }

    private final ServedModels models;
    private final Options options;
    private final StepEngine steps;
    private final WaitingQueue<Pending> waiting;
    private final java.util.Set<Pending> started = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private final Object idle = new Object();
    private final RateWindow rate = new RateWindow(10);
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong finishedRequests = new AtomicLong();
    private final AtomicLong cancelledRequests = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private volatile int running;
    private volatile int lastBatchSize;
    private volatile long kvBlocks;
    private volatile EngineGauges.KvPoolGauges kvPool = EngineGauges.KvPoolGauges.NONE;

    /**
     * Prompt tokens a step takes at most while sequences are decoding ({@code -Djtune.serve.prefillWhileDecoding=N}; the
     * whole {@code --max-step-tokens} when none is): a long prompt that arrives while others stream is prefilled in chunks
     * of this many tokens between their tokens instead of in one step. On two cores a 1.1B model prefills ~100–200 tokens
     * a second, so a step of 2048 prompt tokens held every other stream for 10–20 s; 256 holds them ~1.5–2.5 s.
     */
    static final int PREFILL_WHILE_DECODING = Integer.getInteger("jtune.serve.prefillWhileDecoding", 256);

    private BatchingEngine(ServedModels models, Options options) {
        this.models = models;
        this.options = options;
        models.model().setKvCacheType(KvCacheType.orAuto(options.kvCacheType(), models.model().config(), null));
        this.steps = new StepEngine(models.model(), new StepEngine.Limits(options.maxBatch(), options.maxStepTokens(),
                options.kvBudgetBytes(), Options.KV_BLOCK_TOKENS, Math.min(options.maxStepTokens(), PREFILL_WHILE_DECODING)));
        this.waiting = new WaitingQueue<>(options.maxQueue());
        this.thread = Thread.ofPlatform().name("jtune-engine").daemon(true).unstarted(this::loop);
        publish(); // the pool's size is in the gauges from the start
    }

    /** Starts the scheduler thread over these models; the engine closes them when it closes. */
    public static BatchingEngine start(ServedModels models, Options options) {
        // The engine shares the cores with the threads that parse requests and stream its tokens: a pool thread that spins
        // between parallel calls (Parallel's default, which single-stream decode gains from) competes with them, so served
        // steps park it unless the user chose (bench serve, 1.1B F32, 2 cores, 2026-12-06: spinning 7.44 / 16.21 / 27.69 /
        // 32.60 tok/s at 1 / 4 / 16 / 64 streams, parking 7.61 / 17.78 / 28.75 / 33.13).
        if (System.getProperty("jtune.parallel.lingerMicros") == null) Parallel.setLingerMicros(0);
        BatchingEngine e = new BatchingEngine(models, options);
        e.thread.start();
        return e;
    }

    @Override
    public List<String> modelNames() {
        return models.names();
    }

    @Override
    public int contextLength() {
        return models.model().config().maxPositionEmbeddings();
    }

    @Override
    public Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection {
        inFlight.incrementAndGet(); // counted before the check: a drain that starts now either waits for it or it is refused
        try {
            return accept(request, sink);
        } catch (EngineRejection | RuntimeException e) {
            if (inFlight.decrementAndGet() == 0) {
                synchronized (idle) {
                    idle.notifyAll();
                }
            }
            throw e;
        }
    }

    private Submission accept(GenerationRequest request, TokenSink sink) throws EngineRejection {
        if (!accepting) throw new EngineRejection(EngineRejection.Reason.SHUTTING_DOWN, "the server is shutting down");
        if (!models.serves(request.model())) {
            throw new EngineRejection(EngineRejection.Reason.UNKNOWN_MODEL, "no model or adapter named \"" + request.model()
                    + "\"; served: " + String.join(", ", models.names()));
        }
        int total = request.promptIds().length + request.sampling().maxNewTokens();
        if (total > contextLength()) {
            throw new EngineRejection(EngineRejection.Reason.TOO_LONG, "prompt (" + request.promptIds().length + " tokens) plus max tokens ("
                    + request.sampling().maxNewTokens() + ") exceed the context of " + contextLength() + " tokens");
        }
        if (total > steps.kvCapacity()) {
            throw new EngineRejection(EngineRejection.Reason.TOO_LONG, "prompt (" + request.promptIds().length + " tokens) plus max tokens ("
                    + request.sampling().maxNewTokens() + ") exceed the server's KV cache of " + steps.kvCapacity()
                    + " positions for all requests together (--kv-budget-bytes)");
        }
        Pending p = new Pending(request, sink);
        if (!waiting.offer(p)) {
            throw new EngineRejection(EngineRejection.Reason.QUEUE_FULL, options.maxQueue() + " requests are already waiting; retry later");
        }
        return p;
    }

    @Override
    public boolean drain(Duration timeout) throws InterruptedException {
        accepting = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idle) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                idle.wait(Math.max(1, left / 1_000_000));
            }
        }
        return true;
    }

    @Override
    public EngineGauges gauges() {
        return new EngineGauges(waiting.size(), running, lastBatchSize, kvBlocks, Options.KV_BLOCK_TOKENS, generatedTokens.get(),
                finishedRequests.get(), cancelledRequests.get(), rate.perSecond(System.nanoTime()), kvPool);
    }

    @Override
    public void close() {
        accepting = false;
        stopping = true;
        waiting.wakeUp();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Pending p; (p = waiting.poll()) != null; ) p.finish(FinishReason.CANCELLED, 0, null);
        models.close();
    }

    /** The scheduler: take work while there is room, step, publish the gauges; block only when there is nothing to do. */
    private void loop() {
        while (!stopping) {
            try {
                admit();
                publish();
                try {
                    steps.step();
                } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
                    failAll("generation failed: " + e);
                }
                publish();
            } catch (InterruptedException e) {
                break;
            }
        }
        for (Pending p : List.copyOf(started)) if (p.sequence != null) steps.cancel(p.sequence);
        try {
            steps.step(); // retires the cancelled sequences (their sinks hear CANCELLED)
        } catch (RuntimeException ignored) {
            // shutting down
        }
        for (Pending p : List.copyOf(started)) p.finish(FinishReason.CANCELLED, 0, null);
        publish();
    }

    /** Moves waiting requests into the step engine while it holds fewer than maxBatch; waits briefly when it is idle. */
    private void admit() throws InterruptedException {
        while (steps.running() + steps.waiting() < options.maxBatch()) {
            Pending p = steps.idle() ? waiting.poll(200) : waiting.poll();
            if (p == null) return;
            if (stopping || p.cancelled.get()) {
                p.finish(FinishReason.CANCELLED, 0, null);
                if (stopping) return;
                continue;
            }
            GenerationRequest r = p.request;
            try {
                started.add(p);
                // greedy requests draft by prompt lookup when the server was started so (--prompt-lookup)
                SamplingConfig sampling = r.sampling().promptLookup() == 0 ? r.sampling().withPromptLookup(options.promptLookup()) : r.sampling();
                p.sequence = steps.add(new SequenceRequest(r.promptIds(), sampling, models.adapterOf(r.model()), null, r.logprobs(), r.promptLogprobs()), p);
                if (p.cancelled.get()) steps.cancel(p.sequence);
            } catch (IllegalArgumentException e) {
                started.remove(p);
                p.finish(FinishReason.ERROR, 0, e.getMessage());
            }
        }
    }

    /** After a failed step the sequences' state is unknown: end every started request with an error. */
    private void failAll(String message) {
        for (Pending p : List.copyOf(started)) {
            if (p.sequence != null) steps.cancel(p.sequence);
            p.finish(FinishReason.ERROR, 0, message);
        }
        started.clear();
        try {
            steps.step(); // releases the cancelled sequences' memory (their listeners are already finished)
        } catch (RuntimeException ignored) {
            // the next step may fail again; the requests are already answered
        }
    }

    /** The gauges, read on the scheduler thread; running counts the sequences given to the step engine (admitted or about to be). */
    private void publish() {
        running = started.size();
        lastBatchSize = steps.lastStepSequences();
        KvBlockPool pool = steps.kvPool();
        kvBlocks = pool != null ? pool.usedBlocks() : (steps.cachedPositions() + Options.KV_BLOCK_TOKENS - 1) / Options.KV_BLOCK_TOKENS;
        if (pool != null) {
            kvPool = new EngineGauges.KvPoolGauges(pool.totalBlocks(), pool.cachedBlocks(), steps.preemptions(), pool.prefixLookups(),
                    pool.prefixHits());
        }
    }
}
