package org.jtune.quant.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.tensor.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantized GEMV and GEMM against the scalar oracle: dequantize each weight row with the format's
 * (ggml-exact) dequantizer, then a double-precision dot. Shapes are odd (rows not a multiple of the
 * 4-row groups nor of the 32-row GEMM panel, an odd number of blocks per row, m not a multiple of the 6-row micro-kernel), the weights sit at
 * an unaligned offset of an off-heap segment, and results must not change with the thread count; a GEMM of a few rows
 * gives each row the bits of its GEMV.
 *
 * <p>Tolerance, derived: the kernels sum in F32 over cols terms (vector lanes, then lanes, then blocks),
 * each partial sum rounding by at most 2^-24 relative, and apply the F16 scales to the block sums instead
 * of rounding every dequantized weight; so |kernel − exact| ≤ (cols + 64)·2^-23·Σ|terms|, where the
 * terms are |w_i·x_i| and, for Q4_K, also the min part |dmin·m_j·x_i| that is summed separately.
 */
class QuantizedMatmulTest {
    private static final GgmlType[] TYPES = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16,
            GgmlType.BF16, GgmlType.F32};
    /** BlockMatmul's default fewRows: up to this many rows, gemm gives each row its gemv's bits (a small decode batch). */
    private static final int FEW_ROWS = 8;
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    @Test
    void gemvAndGemmMatchTheScalarOracle() {
        Random r = new Random(17);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                BlockFormat f = type.format();
                int block = type.isQuantized() ? type.blockSize() : 32;
                for (int[] shape : new int[][] {{1, 1}, {7, 3}, {37, 5}, {66, 2}}) {
                    int rows = shape[0], cols = shape[1] * block + (type.isQuantized() ? 0 : 3);
                    long rowBytes = f.rowBytes(cols), offset = 13;
                    MemorySegment w = arena.allocate(offset + rowBytes * rows + 7);
                    float[][] dense = new float[rows][];
                    float[][] minPart = new float[rows][];
                    for (int i = 0; i < rows; i++) {
                        float scale = (float) Math.pow(10, r.nextInt(3) - 1);
                        float[] row = new float[cols];
                        for (int k = 0; k < cols; k++) row[k] = (float) r.nextGaussian() * scale + (i % 3 == 0 ? scale : 0);
                        f.quantizeRow(row, 0, w, offset + i * rowBytes, cols);
                        dense[i] = new float[cols];
                        f.dequantizeRow(w, offset + i * rowBytes, dense[i], 0, cols);
                        minPart[i] = minPart(type, w, offset + i * rowBytes, cols);
                    }
                    for (int m : new int[] {1, 2, 5, 13}) {
                        float[] x = new float[m * cols + 2];
                        for (int k = 0; k < x.length; k++) x[k] = (float) r.nextGaussian();
                        float[] gemm1 = run(true, 1, f, w, offset, rows, cols, x, m);
                        float[] gemm2 = run(true, 2, f, w, offset, rows, cols, x, m);
                        assertArrayEquals(gemm1, gemm2, type + " gemm depends on the thread count");
                        for (int i = 0; i < m; i++) {
                            float[] gemv1 = new float[rows + 1], gemv2 = new float[rows + 1];
                            Parallel.setThreads(1);
                            QuantizedMatmul.gemv(f, w, offset, rows, cols, x, 1 + i * cols, gemv1, 1);
                            Parallel.setThreads(2);
                            QuantizedMatmul.gemv(f, w, offset, rows, cols, x, 1 + i * cols, gemv2, 1);
                            assertArrayEquals(gemv1, gemv2, type + " gemv depends on the thread count");
                            if (m <= FEW_ROWS) {
                                float[] row = java.util.Arrays.copyOfRange(gemm1, 1 + i * rows, 1 + (i + 1) * rows);
                                assertArrayEquals(java.util.Arrays.copyOfRange(gemv1, 1, rows + 1), row, type + " m=" + m + ": gemm row " + i
                                        + " is not that row's gemv, bit for bit");
                            }
                            for (int j = 0; j < rows; j++) {
                                double exact = 0, terms = 0;
                                for (int k = 0; k < cols; k++) {
                                    double xk = x[1 + i * cols + k];
                                    exact += dense[j][k] * xk;
                                    terms += Math.abs(dense[j][k] * xk) + Math.abs(minPart[j][k] * xk);
                                }
                                double tol = (cols + 64) * 0x1p-23 * terms + 1e-30;
                                String what = type + " rows=" + rows + " cols=" + cols + " m=" + m + " i=" + i + " j=" + j;
                                assertTrue(Math.abs(gemv1[1 + j] - exact) <= tol, what + " gemv " + gemv1[1 + j] + " vs " + exact);
                                assertTrue(Math.abs(gemm1[1 + i * rows + j] - exact) <= tol, what + " gemm " + gemm1[1 + i * rows + j] + " vs " + exact);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void segmentInputsAndOutputs() {
        BlockFormat f = GgmlType.Q8_0.format();
        Random r = new Random(2);
        int rows = 9, cols = 64;
        float[] weights = new float[rows * cols];
        for (int i = 0; i < weights.length; i++) weights[i] = (float) r.nextGaussian();
        MemorySegment w = MemorySegment.ofArray(new byte[(int) (f.rowBytes(cols) * rows)]);
        for (int i = 0; i < rows; i++) f.quantizeRow(weights, i * cols, w, i * f.rowBytes(cols), cols);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) r.nextGaussian();
        float[] expected = new float[rows];
        QuantizedMatmul.gemv(f, w, 0, rows, cols, x, 0, expected, 0);
        MemorySegment xs = MemorySegment.ofArray(new float[cols + 1]), out = MemorySegment.ofArray(new float[rows + 1]);
        MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 4, cols);
        QuantizedMatmul.gemv(f, w, 0, rows, cols, xs, 4, out, 4);
        assertArrayEquals(expected, out.asSlice(4).toArray(ValueLayout.JAVA_FLOAT));
    }

    /**
     * The decode kernels load from native memory of one exact segment class (QuantVectors.checkedAddress) and copy heap
     * rows there first: the same rows give the same bits on the heap, in an arena at an odd offset and in a mapped file,
     * on the first call and once compiled (lanes summed in a fixed tree), and a weight whose memory was released is
     * refused, not read.
     */
    @Test
    void gemvGivesTheSameBitsOnHeapNativeAndMappedRows(@TempDir Path tmp) throws Exception {
        Random r = new Random(5);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            BlockFormat f = type.format();
            int rows = 11, cols = type.blockSize() * (type.blockSize() == 32 ? 7 : 3);
            long rowBytes = f.rowBytes(cols);
            byte[] bytes = new byte[(int) (rowBytes * rows)];
            float[] row = new float[cols];
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < cols; k++) row[k] = (float) r.nextGaussian();
                f.quantizeRow(row, 0, MemorySegment.ofArray(bytes), i * rowBytes, cols);
            }
            float[] x = new float[cols];
            for (int k = 0; k < cols; k++) x[k] = (float) r.nextGaussian();
            float[] heap = new float[rows], arena = new float[rows], mapped = new float[rows];
            QuantizedMatmul.gemv(f, MemorySegment.ofArray(bytes), 0, rows, cols, x, 0, heap, 0);
            Path file = tmp.resolve(type + ".bin");
            Files.write(file, bytes);
            try (Arena a = Arena.ofConfined(); FileChannel ch = FileChannel.open(file)) {
                MemorySegment n = a.allocate(bytes.length + 3L).asSlice(3);
                n.copyFrom(MemorySegment.ofArray(bytes));
                QuantizedMatmul.gemv(f, n, 0, rows, cols, x, 0, arena, 0);
                QuantizedMatmul.gemv(f, ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, a), 0, rows, cols, x, 0, mapped, 0);
            }
            float[] later = new float[rows];
            for (int it = 0; it < 3000; it++) QuantizedMatmul.gemv(f, MemorySegment.ofArray(bytes), 0, rows, cols, x, 0, later, 0);
            assertArrayEquals(heap, later, type + ": the first (interpreted) and the 3000th (compiled) call differ");
            assertArrayEquals(heap, arena, type + ": heap and arena rows differ");
            assertArrayEquals(heap, mapped, type + ": heap and mapped rows differ");
            Arena closed = Arena.ofConfined();
            MemorySegment gone = closed.allocate(bytes.length);
            closed.close();
            assertThrows(IllegalStateException.class, () -> QuantizedMatmul.gemv(f, gone, 0, rows, cols, x, 0, new float[rows], 0));
        }
    }

    @Test
    void shapesBeyondTheSegmentAreRefused() {
        BlockFormat f = GgmlType.Q4_0.format();
        MemorySegment w = MemorySegment.ofArray(new byte[18 * 4]);
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatmul.gemv(f, w, 0, 5, 32, new float[32], 0, new float[5], 0));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatmul.gemv(f, w, 0, 4, 33, new float[33], 0, new float[4], 0));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatmul.gemm(f, w, 0, 4, 32, new float[32], 0, 2, new float[8], 0));
    }

    private static float[] run(boolean gemm, int threads, BlockFormat f, MemorySegment w, long offset, int rows, int cols, float[] x, int m) {
        Parallel.setThreads(threads);
        float[] out = new float[m * rows + 1];
        QuantizedMatmul.gemm(f, w, offset, rows, cols, x, 1, m, out, 1);
        return out;
    }

    /** Q4_K's min part −dmin·m_j of each weight: the row dequantized with every quant set to 0. */
    private static float[] minPart(GgmlType type, MemorySegment w, long off, int cols) {
        float[] out = new float[cols];
        if (type != GgmlType.Q4_K) return out;
        byte[] row = w.asSlice(off, type.rowBytes(cols)).toArray(ValueLayout.JAVA_BYTE);
        for (int b = 0; b < cols / 256; b++) java.util.Arrays.fill(row, b * 144 + 16, b * 144 + 144, (byte) 0);
        return type.format().dequantize(row, cols);
    }
}
