package org.jtune.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jtune.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * The host-side arithmetic of the CUDA backend, which needs no GPU: launch grids cover their work exactly
 * once within the hardware limits, attention's shared memory fits the 48 KiB every device gives without
 * opting in, the by-value structs are packed as the CUDA C declares them, cuBLAS operands are recognised
 * (row-major, transposed, broadcast batches) or refused, the PTX architecture is chosen by compute capability,
 * and the pool's size classes round up.
 */
class LaunchArithmeticTest {
    @Test
    void gridStrideCoversEveryElementAndCapsTheGrid() {
        for (long n : new long[] {0, 1, 255, 256, 257, 1_000_003, 10_000_000_000L}) {
            LaunchConfig c = LaunchConfig.gridStride(n, 132);
            assertTrue(c.gridX() >= 1 && c.gridX() <= 132 * 32, "grid " + c.gridX());
            assertTrue(n <= (long) c.gridX() * c.block() || c.gridX() == 132 * 32, "one pass covers n or the loop does");
            assertEquals(LaunchConfig.THREADS, c.block());
        }
        assertEquals(4, LaunchConfig.gridStride(1000, 132).gridX());
    }

    @Test
    void perWarpAndPerRowGrids() {
        assertEquals(3, LaunchConfig.perWarp(17, 8).gridX());
        assertEquals(256, LaunchConfig.perWarp(17, 8).block());
        assertEquals(17, LaunchConfig.perRow(17).gridX());
        assertEquals(1, LaunchConfig.perRow(0).gridX());
        assertEquals(2, LaunchConfig.perThread(257).gridX());
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.perRow(1L << 32));
    }

    @Test
    void attentionGridsAndSharedMemory() {
        LaunchConfig f = LaunchConfig.attentionRows(2, 1023, 32, 64, false);
        assertEquals(256, f.gridX()); // ⌈1023 / 4⌉
        assertEquals(32, f.gridY());
        assertEquals(2, f.gridZ());
        assertEquals(4 * (2 * 32 * 65 + 4 * 64), f.sharedBytes());
        for (int d : new int[] {1, 7, 64, 128}) {
            assertTrue(LaunchConfig.attentionRows(1, 1, 1, d, true).sharedBytes() <= 48 * 1024, "dq at D=" + d);
            assertTrue(LaunchConfig.attentionKeys(1, 1, 1, d).sharedBytes() <= 48 * 1024, "dkv at D=" + d);
        }
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.attentionRows(1, 1, 1, 129, false));
        assertEquals(1, LaunchConfig.attentionKeys(1, 3, 4, 64).gridX());
    }

    @Test
    void structsArePackedAsTheCudaCDeclaresThem() {
        byte[] l = CudaLayouts.strided(new int[] {2, 3}, new long[] {3, 1}, new long[] {1, 2});
        assertEquals(200, l.length);
        ByteBuffer b = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, b.getLong(0));                 // rank
        assertEquals(2, b.getLong(8));                 // shape[0]
        assertEquals(3, b.getLong(16));                // shape[1]
        assertEquals(1, b.getLong(24));                // shape[2] padding
        assertEquals(3, b.getLong(8 + 64));            // a[0]
        assertEquals(2, b.getLong(8 + 128 + 8));       // b[1]
        ByteBuffer scalar = ByteBuffer.wrap(CudaLayouts.strided(new int[0], new long[0], new long[0])).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, scalar.getLong(0));
        assertEquals(1, scalar.getLong(8));
        assertThrows(IllegalArgumentException.class, () -> CudaLayouts.strided(new int[9], new long[9], new long[9]));
        ByteBuffer a = ByteBuffer.wrap(CudaLayouts.attention(2, 5, 7, 8, 2, 64, true, 3, 1, 0.125f)).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals(new int[] {2, 5, 7, 8, 2, 64, 1, 3, 1}, new int[] {a.getInt(0), a.getInt(4), a.getInt(8), a.getInt(12), a.getInt(16),
                a.getInt(20), a.getInt(24), a.getInt(28), a.getInt(32)});
        assertEquals(0.125f, a.getFloat(36));
    }

    @Test
    void gemmOperandsAreRecognisedOrRefused() {
        GemmOperand rm = GemmOperand.of(DType.F32, new int[] {4, 5}, new long[] {5, 1});
        assertTrue(rm.rowMajor());
        assertEquals(5, rm.ld());
        GemmOperand t = GemmOperand.of(DType.BF16, new int[] {5, 4}, new long[] {1, 5}); // a transposed (4, 5)
        assertTrue(!t.rowMajor());
        assertEquals(5, t.ld());
        GemmOperand narrowed = GemmOperand.of(DType.F32, new int[] {4, 3}, new long[] {5, 1});
        assertEquals(5, narrowed.ld());
        GemmOperand batched = GemmOperand.of(DType.F32, new int[] {2, 3, 4, 5}, new long[] {60, 20, 5, 1});
        assertEquals(6, batched.batch());
        assertEquals(20, batched.batchStride());
        GemmOperand broadcast = GemmOperand.of(DType.F32, new int[] {3, 4, 5}, new long[] {0, 5, 1});
        assertEquals(3, broadcast.batch());
        assertEquals(0, broadcast.batchStride());
        assertNull(GemmOperand.of(DType.F32, new int[] {4, 5}, new long[] {10, 2}), "stepped columns");
        assertNull(GemmOperand.of(DType.F32, new int[] {2, 3, 4, 5}, new long[] {100, 20, 5, 1}), "batch dims that do not collapse");
        assertNull(GemmOperand.of(DType.I32, new int[] {4, 5}, new long[] {5, 1}));
    }

    @Test
    void architectureFollowsComputeCapability() {
        assertEquals(90, PtxResources.archFor(9, 0));
        assertEquals(80, PtxResources.archFor(8, 9));
        assertEquals(80, PtxResources.archFor(8, 0));
        assertEquals(90, PtxResources.archFor(10, 0));
        assertTrue(assertThrows(IllegalStateException.class, () -> PtxResources.archFor(7, 5)).getMessage().contains("7.5"));
    }

    @Test
    void poolSizeClassesRoundUp() {
        assertEquals(512, CudaMemoryPool.rounded(1));
        assertEquals(512, CudaMemoryPool.rounded(0));
        assertEquals(1024, CudaMemoryPool.rounded(513));
        assertEquals(1 << 20, CudaMemoryPool.rounded(1 << 20));
        assertEquals(2L << 20, CudaMemoryPool.rounded((1 << 20) + 1));
        assertEquals(4L << 20, CudaMemoryPool.rounded((2L << 20) + 1));
    }
}
