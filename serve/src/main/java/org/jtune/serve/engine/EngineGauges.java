package org.jtune.serve.engine;

/**
 * A snapshot of the engine's state for /metrics.
 *
 * @param waiting          requests accepted and not yet started (queue depth)
 * @param running          sequences holding KV cache
 * @param lastBatchSize    sequences advanced by the last step
 * @param kvBlocksInUse    KV cache blocks held by the running sequences
 * @param kvBlockTokens    positions per KV block (what one block holds)
 * @param generatedTokens  tokens generated since start (a counter)
 * @param finishedRequests requests finished since start, whatever the reason (a counter)
 * @param cancelledRequests requests cancelled since start (a counter)
 * @param tokensPerSecond  generation rate over the last few seconds
 */
public record EngineGauges(int waiting, int running, int lastBatchSize, long kvBlocksInUse, int kvBlockTokens,
                           long generatedTokens, long finishedRequests, long cancelledRequests, double tokensPerSecond) {}
