package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The GEMV reads memory-mapped (off-heap) F32 and BF16 weights in place; its sums must be the very
 * bits of the heap path (which widens rows into a scratch first), for every row count of the GEMV,
 * K with and without a scalar tail, N not a multiple of its 4-row groups, accumulation, and 1 or 2
 * threads. A weight that is a view at an offset of a larger storage (read in place, not copied) gives
 * the bits of its contiguous copy.
 */
class GemvSegmentTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    @Test
    void offHeapWeightsGiveTheHeapPathsBits() {
        Rng rng = new Rng(21);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                for (int k : new int[] {64, 257, 2048}) {
                    int n = 1031;
                    Tensor wHeap = Tensor.uniform(rng, -1f, 1f, n, k).to(dt);
                    MemorySegment seg = arena.allocate(wHeap.storage().byteSize(), 64);
                    seg.copyFrom(wHeap.storage().segment());
                    Tensor wOff = new Tensor(Storage.wrap(seg), dt, new int[] {n, k}, new long[] {k, 1}, 0);
                    for (int threads : new int[] {1, 2}) {
                        Parallel.setThreads(threads);
                        for (int m = 1; m <= Gemv.MAX_ROWS; m++) {
                            Tensor a = Tensor.uniform(rng, -1f, 1f, m, k);
                            String what = dt + " k=" + k + " m=" + m + " threads=" + threads;
                            assertArrayEquals(Ops.matmul(a, wHeap.t()).toFloatArray(), Ops.matmul(a, wOff.t()).toFloatArray(), what);
                            Tensor c1 = Tensor.uniform(new Rng(m), -1f, 1f, m, n), c2 = c1.copy();
                            CpuBackend.INSTANCE.matmul(a, wHeap.t(), c1, true);
                            CpuBackend.INSTANCE.matmul(a, wOff.t(), c2, true);
                            assertArrayEquals(c1.toFloatArray(), c2.toFloatArray(), "accumulate " + what);
                            Tensor slice = wOff.narrow(0, 5, n - 9);
                            assertArrayEquals(Ops.matmul(a, slice.contiguous().t()).toFloatArray(),
                                    Ops.matmul(a, slice.t()).toFloatArray(), "offset view " + what);
                        }
                    }
                }
            }
        }
    }
}
