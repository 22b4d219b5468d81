package org.jtune.serve.engine;

/**
 * A snapshot of the engine's state for /metrics.
 *
 * @param waiting           requests accepted and not yet started (queue depth)
 * @param running           sequences holding KV cache
 * @param lastBatchSize     sequences advanced by the last step
 * @param kvBlocksInUse     KV cache blocks held by the running sequences
 * @param kvBlockTokens     positions per KV block (what one block holds)
 * @param generatedTokens   tokens generated since start (a counter)
 * @param finishedRequests  requests finished since start, whatever the reason (a counter)
 * @param cancelledRequests requests cancelled since start (a counter)
 * @param tokensPerSecond   generation rate over the last few seconds
 * @param kv                the paged KV pool's state, or {@link KvPoolGauges#NONE} without a KV budget
 */
public record EngineGauges(int waiting, int running, int lastBatchSize, long kvBlocksInUse, int kvBlockTokens,
                           long generatedTokens, long finishedRequests, long cancelledRequests, double tokensPerSecond,
                           KvPoolGauges kv) {
    /**
     * The block pool of a paged KV cache (an engine with a KV budget).
     *
     * @param totalBlocks   blocks the budget holds (0: no pool)
     * @param cachedBlocks  blocks no sequence holds, kept for the prompt prefix they contain
     * @param preemptions   times a sequence gave its blocks back so others could go on (a counter)
     * @param prefixLookups full prompt blocks looked up in the prefix cache (a counter)
     * @param prefixHits    of those, blocks found cached (a counter)
     */
    public record KvPoolGauges(long totalBlocks, long cachedBlocks, long preemptions, long prefixLookups, long prefixHits) {
        public static final KvPoolGauges NONE = new KvPoolGauges(0, 0, 0, 0, 0);

        /** Share of prefix lookups that found their block cached (0 before any lookup). */
        public double prefixHitRate() {
            return prefixLookups == 0 ? 0 : (double) prefixHits / prefixLookups;
        }
    }

    public EngineGauges(int waiting, int running, int lastBatchSize, long kvBlocksInUse, int kvBlockTokens, long generatedTokens,
                        long finishedRequests, long cancelledRequests, double tokensPerSecond) {
        this(waiting, running, lastBatchSize, kvBlocksInUse, kvBlockTokens, generatedTokens, finishedRequests, cancelledRequests,
                tokensPerSecond, KvPoolGauges.NONE);
    }
}
