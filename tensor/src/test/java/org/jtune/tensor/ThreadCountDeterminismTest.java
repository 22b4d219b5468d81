package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The row kernels fix their reduction order per row, and the backward kernels fix the order of their
 * sums over rows, so results are bit-identical whether the pool runs one thread or several (the shapes
 * are large enough to be split across threads).
 */
class ThreadCountDeterminismTest {
    static float[] withThreads(int n, Supplier<Tensor> op) {
        int before = Parallel.threads();
        Parallel.setThreads(n);
        try {
            return op.get().toFloatArray();
        } finally {
            Parallel.setThreads(before);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void oneAndFourThreadsAgreeBitForBit(Backend be) {
        Rng rng = new Rng(71);
        Tensor logits = Tensor.randn(rng, 3f, 16, 32000);
        Tensor targets = Tensor.ofInts(new int[] {1, 5, 31999, 7, 0, 3, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 16);
        Tensor x = Tensor.randn(rng, 1f, 256, 1000);
        Tensor w = Tensor.randn(rng, 1f, 1000);
        Tensor g = Tensor.randn(rng, 1f, 256, 1000);
        // RMSNorm's tiles of 4 rows by column blocks of 1024: 37 rows and 2500 columns leave a part tile and a tail
        Tensor xWide = Tensor.randn(rng, 1f, 37, 2500), wWide = Tensor.randn(rng, 1f, 2500);
        int[] idArray = new int[256];
        for (int i = 0; i < idArray.length; i++) idArray[i] = rng.nextInt(50);
        Tensor ids = Tensor.ofInts(idArray, 256);
        Tensor q = Tensor.randn(rng, 1f, 1, 64, 8, 64), k = Tensor.randn(rng, 1f, 1, 64, 2, 64), v = Tensor.randn(rng, 1f, 1, 64, 2, 64);
        java.util.List<Supplier<Tensor>> ops = java.util.List.of(
                () -> Ops.crossEntropyPerRow(logits, targets, -100),
                () -> Ops.softmax(logits, 1),
                () -> Ops.logSoftmax(x, 0),
                () -> Ops.sum(x, 1, false),
                () -> Ops.var(x, 0, false, 1),
                () -> Ops.rmsNorm(x, w, 1e-5f),
                () -> Ops.rmsNorm(xWide, wWide, 1e-5f),
                () -> Ops.layerNorm(x, w, w, 1e-5f),
                () -> Ops.attention(q, k, v, AttentionMask.causalMask(), 0f),
                () -> { // four decode rows over 64-position caches in blocks of 16 (k, v (1, 64, 2, 64) seen as 4 blocks)
                    Tensor out = Ops.zerosOn(q, 1, 4, 8, 64);
                    int[] table = {3, 1, 0, 2};
                    Ops.pagedAttention(q.narrow(1, 0, 4), k.reshape(4, 16, 2, 64), v.reshape(4, 16, 2, 64), new PagedRows(
                            new int[][] {table, table, table, table}, new int[] {0, 1, 2, 3}, new int[] {1, 1, 1, 1}, new int[] {64, 50, 17, 1}),
                            0, 0f, out);
                    return out;
                },
                // the backward kernels: their sums over rows (dw, dk, dv, embedding rows) have a fixed order too
                () -> {
                    Tensor[] yr = Ops.rmsNormWithRstd(x, w, 1e-5f, true);
                    Tensor[] d = BackwardOps.rmsNorm(x, w, yr[1], g, true, true);
                    return Ops.concat(java.util.List.of(d[0].reshape(-1), d[1]), 0);
                },
                () -> {
                    Tensor[] ol = Ops.attentionWithLse(q, k, v, AttentionMask.causalMask(), 0f, true);
                    Tensor[] d = BackwardOps.attention(q, k, v, ol[0], ol[1], q, AttentionMask.causalMask(), 0f);
                    return Ops.concat(java.util.List.of(d[0].reshape(-1), d[1].reshape(-1), d[2].reshape(-1)), 0);
                },
                () -> BackwardOps.crossEntropyWithGrad(logits, targets, -100, 0.5f, false)[1],
                () -> BackwardOps.embedding(x, ids, 50),
                () -> BackwardOps.sumTo(x, new int[] {1000}),
                () -> Tensor.scalar((float) Ops.sumOfSquares(x)),
                // RoPE steps cos/sin along consecutive positions from exact values at multiples of 32: the
                // values must depend on the position only, not on where a thread's rows start
                () -> {
                    int[] pos = new int[200];
                    for (int i = 0; i < pos.length; i++) pos[i] = 70_001 + i;
                    Tensor rx = Tensor.randn(new Rng(5), 1f, 1, 200, 2, 64);
                    return Ops.rope(rx, Tensor.ofInts(pos, 1, 200), RopeFrequencies.tensor(64, 10_000, new RopeFrequencies.None()));
                },
                () -> Ops.swiglu(x, g));
        for (int i = 0; i < ops.size(); i++) {
            Supplier<Tensor> op = ops.get(i);
            float[] one = withThreads(1, () -> Ops.using(be, op));
            float[] four = withThreads(4, () -> Ops.using(be, op));
            assertArrayEquals(one, four, "op " + i + " differs between 1 and 4 threads");
        }
    }
}
