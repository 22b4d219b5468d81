package org.jtune.serve.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

class BatchingEngineTest {
    /** Collects a request's tokens; {@link #done} completes with the finish reason. */
    static final class Collected implements TokenSink {
        final List<Integer> ids = new ArrayList<>();
        final CompletableFuture<FinishReason> done = new CompletableFuture<>();
        volatile CountDownLatch hold = new CountDownLatch(0);

        @Override
        public void onToken(GeneratedToken token) {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (ids) {
                ids.add(token.id());
            }
        }

        @Override
        public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String error) {
            done.complete(reason);
        }

        int[] ids() {
            synchronized (ids) {
                return ids.stream().mapToInt(Integer::intValue).toArray();
            }
        }
    }

    static BatchingEngine engine(Path dir, int maxBatch, int maxQueue) throws Exception {
        return BatchingEngine.start(ServedModels.of("m", Architectures.load(dir)), new BatchingEngine.Options(maxBatch, maxQueue));
    }

    static GenerationRequest request(String id, int[] prompt, int maxNew, List<Integer> stopIds) {
        return new GenerationRequest(id, "m", prompt, SamplingConfig.greedy(maxNew).withStopIds(stopIds), -1);
    }

    @Test
    void batchedSequencesGiveGeneratorsTokensEach() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        Tokenizer tok = Tokenizer.load(dir);
        List<int[]> prompts = List.of(tok.encode("Once upon a time", true), tok.encode("The cat", true), tok.encode("Lily and Tom went", true));
        List<int[]> expected = new ArrayList<>();
        try (CausalLM m = Architectures.load(dir)) {
            for (int[] p : prompts) expected.add(Generator.generate(m, List.of(p), SamplingConfig.greedy(30).withStopIds(List.of(2)), null, null).getFirst().outputIds());
        }
        try (BatchingEngine e = engine(dir, 2, 8)) { // three requests, two at a time: one joins while another runs
            List<Collected> sinks = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                Collected c = new Collected();
                sinks.add(c);
                e.submit(request("r" + i, prompts.get(i), 30, List.of(2)), c);
            }
            for (int i = 0; i < prompts.size(); i++) {
                FinishReason f = sinks.get(i).done.get(60, TimeUnit.SECONDS);
                assertArrayEquals(expected.get(i), sinks.get(i).ids(), "request " + i);
                assertEquals(expected.get(i).length == 30 && expected.get(i)[29] != 2 ? FinishReason.LENGTH : FinishReason.STOP, f);
            }
            EngineGauges g = e.gauges();
            assertEquals(0, g.running());
            assertEquals(0, g.kvBlocksInUse());
            assertEquals(3, g.finishedRequests());
        }
    }

    @Test
    void aRequestBeyondTheKvBudgetIsRefusedWithItsLimit() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        CausalLM m = Architectures.load(dir);
        long fourBlocks = 4 * org.jtune.models.kv.KvBlockPool.bytesPerBlock(m.config(), BatchingEngine.Options.KV_BLOCK_TOKENS, org.jtune.tensor.DType.F32);
        try (BatchingEngine e = BatchingEngine.start(ServedModels.of("m", m), new BatchingEngine.Options(2, 8, 2048, fourBlocks))) {
            assertEquals(4, e.gauges().kv().totalBlocks(), "the pool's size is in the gauges before any step");
            EngineRejection r = assertThrows(EngineRejection.class, () -> e.submit(request("long", new int[] {1, 403, 407}, 62, List.of()), new Collected()));
            assertEquals(EngineRejection.Reason.TOO_LONG, r.reason());
            assertTrue(r.getMessage().contains("KV cache of 64 positions"), r.getMessage());
            Collected fits = new Collected();
            e.submit(request("fits", new int[] {1, 403, 407}, 61, List.of()), fits);
            assertEquals(FinishReason.LENGTH, fits.done.get(60, TimeUnit.SECONDS));
            assertEquals(61, fits.ids().length);
        }
    }

    /** A BF16 KV cache holds twice the positions of an F32 one in the same budget, and a request that needs them all finishes. */
    @Test
    void aBf16KvCacheHoldsTwiceThePositionsOfTheSameBudget() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        CausalLM m = Architectures.load(dir);
        long fourF32Blocks = 4 * org.jtune.models.kv.KvBlockPool.bytesPerBlock(m.config(), BatchingEngine.Options.KV_BLOCK_TOKENS, org.jtune.tensor.DType.F32);
        var options = new BatchingEngine.Options(2, 8, 2048, fourF32Blocks, org.jtune.tensor.DType.BF16, 0);
        try (BatchingEngine e = BatchingEngine.start(ServedModels.of("m", m), options)) {
            assertEquals(8, e.gauges().kv().totalBlocks());
            Collected all = new Collected();
            e.submit(request("all", new int[] {1, 403, 407}, 125, List.of()), all);
            all.done.get(60, TimeUnit.SECONDS);
            assertTrue(all.ids().length > 0 && e.gauges().kvBlocksInUse() == 0, all.ids().length + " tokens");
        }
    }

    @Test
    void queueLimitCancelAndDrain() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        int[] prompt = {1, 403, 407};
        try (BatchingEngine e = engine(dir, 1, 1)) {
            Collected running = new Collected();
            running.hold = new CountDownLatch(1); // the engine thread waits in its first token (opened at the end whatever happens)
            try {
            Submission a = e.submit(request("a", prompt, 200, List.of()), running);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (e.gauges().running() != 1 && System.nanoTime() < deadline) Thread.sleep(5);
            Collected waiting = new Collected();
            Submission b = e.submit(request("b", prompt, 5, List.of()), waiting);
            EngineRejection full = assertThrows(EngineRejection.class, () -> e.submit(request("c", prompt, 5, List.of()), new Collected()));
            assertEquals(EngineRejection.Reason.QUEUE_FULL, full.reason());
            assertEquals(1, e.gauges().waiting());
            b.cancel(); // cancelled while waiting: it never starts
            assertEquals(FinishReason.CANCELLED, waiting.done.get(5, TimeUnit.SECONDS));
            assertEquals(0, waiting.ids().length);
            a.cancel(); // cancelled while running: retired at the next step
            running.hold.countDown();
            assertEquals(FinishReason.CANCELLED, running.done.get(20, TimeUnit.SECONDS));
            assertTrue(running.ids().length < 200);
            assertTrue(e.drain(Duration.ofSeconds(5)));
            assertEquals(0, e.gauges().running());
            assertEquals(0, e.gauges().kvBlocksInUse());
            assertEquals(2, e.gauges().cancelledRequests());
            EngineRejection closed = assertThrows(EngineRejection.class, () -> e.submit(request("d", prompt, 5, List.of()), new Collected()));
            assertEquals(EngineRejection.Reason.SHUTTING_DOWN, closed.reason());
            } finally {
                running.hold.countDown();
            }
        }
    }

    @Test
    void unknownModelsAndRequestsBeyondTheContextAreRefused() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (BatchingEngine e = engine(dir, 1, 4)) {
            var unknown = assertThrows(EngineRejection.class, () -> e.submit(
                    new GenerationRequest("x", "other", new int[] {1}, SamplingConfig.greedy(5), -1), new Collected()));
            assertEquals(EngineRejection.Reason.UNKNOWN_MODEL, unknown.reason());
            var tooLong = assertThrows(EngineRejection.class, () -> e.submit(request("y", new int[] {1, 2}, 511, List.of()), new Collected()));
            assertEquals(EngineRejection.Reason.TOO_LONG, tooLong.reason());
            assertTrue(tooLong.getMessage().contains("512"), tooLong.getMessage());
        }
    }
}
