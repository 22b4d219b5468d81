package org.jtune.serve.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jtune.models.llama.LlamaModel;

/**
 * The first engine behind {@link Engine}, over today's {@link LlamaModel}: one engine thread keeps up
 * to {@code maxBatch} live sequences, each with its own KV cache, and advances each by one token per
 * step, in turn. Between steps it retires finished and cancelled sequences (their KV cache is dropped
 * at once) and admits waiting requests, so requests join and leave while others run; a new request's
 * prompt is prefilled in the step it joins. Sequences are not batched into one forward call: the
 * continuous-batching engine of the models module (a step over many sequences, paged KV cache,
 * batched adapters) replaces this class behind the same interface.
 */
public final class InterleavedEngine implements Engine {
    /** Positions per KV block reported in the gauges (this engine allocates whole caches, not blocks). */
    public static final int KV_BLOCK_TOKENS = 16;

    /**
     * @param maxBatch most sequences live at once
     * @param maxQueue most requests waiting to start (more are refused: HTTP 429)
     */
    public record Options(int maxBatch, int maxQueue) {
        public Options {
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
            if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
        }
    }

    /** A request between submit and finish: its sink, its cancel flag, and a guard that it finishes once. */
    static final class Pending implements Submission {
        final GenerationRequest request;
        private final TokenSink sink;
        private final InterleavedEngine engine;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();

        Pending(GenerationRequest request, TokenSink sink, InterleavedEngine engine) {
            this.request = request;
            this.sink = sink;
            this.engine = engine;
        }

        @Override
        public String id() {
            return request.id();
        }

        @Override
        public void cancel() {
            if (!cancelled.compareAndSet(false, true)) return;
            // still waiting: it never starts; running: the engine retires it at its next step
            if (engine.waiting.remove(this)) finish(FinishReason.CANCELLED, 0, null);
        }

        boolean isCancelled() {
            return cancelled.get();
        }

        void finish(FinishReason reason, int completionTokens, String error) {
            if (!finished.compareAndSet(false, true)) return;
            engine.count(reason);
            try {
                sink.onFinish(reason, request.promptIds().length, completionTokens, error);
            } finally {
                engine.leave();
            }
        }
    }

    private final ServedModels models;
    private final Options options;
    private final WaitingQueue<Pending> waiting;
    private final List<Sequence> live = new ArrayList<>();
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

    private InterleavedEngine(ServedModels models, Options options) {
        this.models = models;
        this.options = options;
        this.waiting = new WaitingQueue<>(options.maxQueue());
        this.thread = Thread.ofPlatform().name("jtune-engine").daemon(true).unstarted(this::loop);
    }

    /** Starts the engine thread over these models; the engine closes them when it closes. */
    public static InterleavedEngine start(ServedModels models, Options options) {
        InterleavedEngine e = new InterleavedEngine(models, options);
        e.thread.start();
        return e;
    }

    @Override
    public List<String> modelNames() {
        return models.names();
    }

    @Override
    public int contextLength() {
        return models.base().config().maxPositionEmbeddings();
    }

    @Override
    public Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection {
        if (!accepting) throw new EngineRejection(EngineRejection.Reason.SHUTTING_DOWN, "the server is shutting down");
        if (models.get(request.model()) == null) {
            throw new EngineRejection(EngineRejection.Reason.UNKNOWN_MODEL, "no model or adapter named \"" + request.model()
                    + "\"; served: " + String.join(", ", models.names()));
        }
        int total = request.promptIds().length + request.sampling().maxNewTokens();
        if (total > contextLength()) {
            throw new EngineRejection(EngineRejection.Reason.TOO_LONG, "prompt (" + request.promptIds().length + " tokens) plus max tokens ("
                    + request.sampling().maxNewTokens() + ") exceed the context of " + contextLength() + " tokens");
        }
        Pending p = new Pending(request, sink, this);
        inFlight.incrementAndGet();
        if (!waiting.offer(p)) {
            inFlight.decrementAndGet();
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
        long now = System.nanoTime();
        return new EngineGauges(waiting.size(), running, lastBatchSize, kvBlocks, KV_BLOCK_TOKENS,
                generatedTokens.get(), finishedRequests.get(), cancelledRequests.get(), rate.perSecond(now));
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

    private void count(FinishReason reason) {
        finishedRequests.incrementAndGet();
        if (reason == FinishReason.CANCELLED) cancelledRequests.incrementAndGet();
    }

    private void leave() {
        if (inFlight.decrementAndGet() == 0) {
            synchronized (idle) {
                idle.notifyAll();
            }
        }
    }

    /** The scheduler: retire, admit, step; block only when nothing is live. */
    private void loop() {
        while (!stopping) {
            try {
                admit();
                int stepped = 0;
                for (Sequence s : List.copyOf(live)) {
                    if (s.pending.isCancelled()) {
                        retire(s, FinishReason.CANCELLED, null);
                        continue;
                    }
                    advance(s, false);
                    stepped++;
                }
                lastBatchSize = stepped;
            } catch (InterruptedException e) {
                break;
            }
        }
        for (Sequence s : List.copyOf(live)) retire(s, FinishReason.CANCELLED, null);
    }

    /** Moves waiting requests into the live set up to maxBatch, prefilling each (its first token). */
    private void admit() throws InterruptedException {
        while (live.size() < options.maxBatch()) {
            Pending p = live.isEmpty() ? waiting.poll(200) : waiting.poll();
            if (p == null) return;
            if (stopping || p.isCancelled()) {
                p.finish(FinishReason.CANCELLED, 0, null);
                if (stopping) return;
                continue;
            }
            Sequence s;
            try {
                s = new Sequence(p, models.get(p.request.model()));
            } catch (RuntimeException | OutOfMemoryError e) {
                p.finish(FinishReason.ERROR, 0, "could not allocate the KV cache: " + e);
                continue;
            }
            live.add(s);
            publishLive();
            advance(s, true);
        }
    }

    /** One token for {@code s} (the prompt's first when {@code prefill}); retires it when it has finished. */
    private void advance(Sequence s, boolean prefill) {
        GeneratedToken token;
        try {
            token = prefill ? s.prefill() : s.step();
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            retire(s, FinishReason.ERROR, "generation failed: " + e);
            return;
        }
        generatedTokens.incrementAndGet();
        rate.add(1, token.nanoTime());
        try {
            s.pending.sink.onToken(token);
        } catch (RuntimeException e) {
            retire(s, FinishReason.ERROR, "token sink failed: " + e);
            return;
        }
        if (s.finish() != null) retire(s, s.finish(), null);
    }

    /** Drops the sequence and its KV cache, updates the gauges, then tells the caller (so gauges are current when it hears). */
    private void retire(Sequence s, FinishReason reason, String error) {
        live.remove(s);
        publishLive();
        s.pending.finish(reason, s.generated(), error);
    }

    private void publishLive() {
        long blocks = 0;
        for (Sequence s : live) blocks += (s.capacity() + KV_BLOCK_TOKENS - 1) / KV_BLOCK_TOKENS;
        kvBlocks = blocks;
        running = live.size();
    }
}
