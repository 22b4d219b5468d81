package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GEMV over native F32/BF16 weights loads through a segment of exact class at the rows' absolute addresses
 * ({@code Gemv.dotsNative}: one to three rows alone; more in the row blocks of {@code RowBlockDots}, then the rows past
 * the last block of four); it must give the very bits of the heap path and of the loads through the weight's own
 * segment, on a memory-mapped file whose tensor starts 8 bytes past a cache line (safetensors aligns to 8 only), for views
 * that end at the last byte of the mapping, with and without a scalar tail, 1 and 2 threads; and it must refuse a weight
 * whose memory was released instead of reading freed memory.
 */
class GemvNativeSegmentTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
        Gemv.setExactSegments(true);
    }

    @Test
    void mappedWeightsGiveTheHeapPathsBitsThroughEitherLoad(@TempDir Path dir) throws Exception {
        Rng rng = new Rng(5);
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (int k : new int[] {48, 203, 1024}) {
                int n = 77;
                Tensor wHeap = Tensor.uniform(rng, -1f, 1f, n, k).to(dt);
                long bytes = wHeap.storage().byteSize(), lead = 8;
                Path file = dir.resolve("w-" + dt + "-" + k + ".bin");
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.allocate((int) lead));
                    ch.write(java.nio.ByteBuffer.wrap(wHeap.storage().segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
                }
                try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, lead + bytes, arena).asSlice(lead);
                    Tensor wMap = new Tensor(Storage.wrap(mapped), dt, new int[] {n, k}, new long[] {k, 1}, 0);
                    for (int threads : new int[] {1, 2}) {
                        Parallel.setThreads(threads);
                        for (int m : new int[] {1, 2, 3, 4, 7, 12, 17}) {
                            Tensor a = Tensor.uniform(rng, -1f, 1f, m, k);
                            String what = dt + " k=" + k + " m=" + m + " threads=" + threads;
                            float[] heap = Ops.matmul(a, wHeap.t()).toFloatArray();
                            float[] tail = Ops.matmul(a, wHeap.narrow(0, 70, 7).t()).toFloatArray();
                            for (boolean exact : new boolean[] {true, false}) {
                                Gemv.setExactSegments(exact);
                                assertArrayEquals(heap, Ops.matmul(a, wMap.t()).toFloatArray(), what + " exact=" + exact);
                                assertArrayEquals(tail, Ops.matmul(a, wMap.narrow(0, 70, 7).t()).toFloatArray(), "last rows " + what);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void releasedWeightsAreRefused() {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(4L * 16 * 64, 64);
        Tensor w = new Tensor(Storage.wrap(seg), DType.F32, new int[] {16, 64}, new long[] {64, 1}, 0);
        Tensor a = Tensor.uniform(new Rng(1), -1f, 1f, 1, 64);
        arena.close();
        assertThrows(IllegalStateException.class, () -> Ops.matmul(a, w.t()));
    }
}
