package org.jtune.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.BlockMatmul;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 repacked in groups of 32 rows: the layout against ggml's Q8_0 rows (round trips byte for byte, the same dequantized
 * floats, encodeRow as ggml's quantizer then the repack), and the product with F32 activations against a double-precision
 * reference over the dequantized weights, within the rounding of its sums: per block 32 fused steps and one scaling, per row
 * nb more, so |kernel − Σ w·x| ≤ γ_{nb+33}·Σ_b |d_b|·Σ_{k∈b} |q_k·x_k| (γ_n = n·u/(1 − n·u), u = 2⁻²⁴). Shapes: 32 and 96
 * rows, 1 to 65 blocks, 1 to 9 and 70 activation rows (the 4-row kernel and its remainder), a matrix starting at its second
 * group; every row of a product of m rows is that row's GEMV and the codec's scalar dot, bit for bit, on one thread and two.
 */
class Q8_0x32FormatTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    private static MemorySegment plainRows(Random r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(3) - 2));
        for (int k = 0; k < 32 && rows > 1; k++) w[cols + k] = 0f;               // an all-zero block: d = 0
        for (int k = 0; k < 32 && rows > 2; k++) w[2 * cols + k] *= 1e-5f;      // a subnormal F16 scale
        MemorySegment plain = MemorySegment.ofArray(new byte[Math.toIntExact(rows * GgmlType.Q8_0.rowBytes(cols))]);
        for (int i = 0; i < rows; i++) Q8_0Format.INSTANCE.quantizeRow(w, i * cols, plain, i * GgmlType.Q8_0.rowBytes(cols), cols);
        return plain;
    }

    @Test
    void the256BitKernelGivesTheBitsOfThe512BitOne() {
        // the 512-bit kernel runs on any machine (on AVX2 the Vector API computes its vectors in Java, slowly): both compared
        // everywhere (41 rows: the panel paths too, four rows at a time and one)
        Random r = new Random(11);
        for (int[] shape : new int[][] {{64, 96}, {96, 2080}}) {
            int rows = shape[0], cols = shape[1], blocks = cols / 32;
            MemorySegment packed = Q8_0x32Format.interleave(plainRows(r, rows, cols), 0, rows, cols);
            long base = QuantVectors.checkedAddress(packed, 0, packed.byteSize());
            for (int m : new int[] {1, 2, 3, 5, 41}) {
                float[] x = new float[m * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                float[] want = new float[m * rows], got = new float[m * rows];
                Q8_0x32Format.multiply512(base, 0, rows / 32, blocks, x, 0, cols, m, want, 0, rows);
                Q8_0x32Lanes8.multiply(base, 0, rows / 32, blocks, x, 0, m, got, 0, rows);
                assertArrayEquals(want, got, rows + "x" + cols + ", m = " + m);
            }
            java.lang.ref.Reference.reachabilityFence(packed);   // the kernels read it by address: keep it from being freed before
        }
    }

    @Test
    void layoutRoundTripsAndDequantizesAsQ8_0() {
        assumeTrue(Q8_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(13);
        for (int[] shape : new int[][] {{32, 32}, {64, 96}, {96, 2080}}) {
            int rows = shape[0], cols = shape[1];
            MemorySegment plain = plainRows(r, rows, cols);
            MemorySegment packed = Q8_0x32Format.interleave(plain, 0, rows, cols);
            assertEquals(rows * Q8_0x32Format.INSTANCE.rowBytes(cols), packed.byteSize());
            assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), Q8_0x32Format.plain(packed, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE));
            long rb = Q8_0x32Format.INSTANCE.rowBytes(cols);
            for (int i = 0; i < rows; i++) {
                float[] want = new float[cols], got = new float[cols + 64];
                Q8_0Format.INSTANCE.dequantizeRow(plain, i * GgmlType.Q8_0.rowBytes(cols), want, 0, cols);
                Q8_0x32Format.INSTANCE.dequantize(packed, i * rb, cols, 0, cols, got, 0);
                assertArrayEquals(want, java.util.Arrays.copyOf(got, cols), "row " + i);
                if (cols >= 64) {                                                 // a chunk from the second block on
                    Q8_0x32Format.INSTANCE.dequantize(packed, i * rb, cols, 32, 32, got, 7);
                    assertArrayEquals(java.util.Arrays.copyOfRange(want, 32, 64), java.util.Arrays.copyOfRange(got, 7, 39));
                }
            }
            float[] src = new float[rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            MemorySegment viaQ8 = MemorySegment.ofArray(new byte[Math.toIntExact(rows * GgmlType.Q8_0.rowBytes(cols))]);
            MemorySegment direct = Arena.ofAuto().allocate(rows * rb);
            for (int i = 0; i < rows; i++) {
                Q8_0Format.INSTANCE.quantizeRow(src, i * cols, viaQ8, i * GgmlType.Q8_0.rowBytes(cols), cols);
                Q8_0x32Format.INSTANCE.encodeRow(src, i * cols, cols, direct, i * rb);
            }
            assertArrayEquals(Q8_0x32Format.interleave(viaQ8, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE), direct.toArray(ValueLayout.JAVA_BYTE));
        }
        assertThrows(IllegalArgumentException.class, () -> Q8_0x32Format.interleave(MemorySegment.ofArray(new byte[34 * 33]), 0, 33, 32));
    }

    @Test
    void tensorsRepackOnlyWholeGroupsAndUnpackToGgmlRows() {
        assumeTrue(Q8_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(14);
        Tensor whole = Tensor.blockQuantized(Q8_0Format.INSTANCE, plainRows(r, 64, 64), 64, 64);
        Tensor packed = RowGroupFormats.repacked(whole);
        assertSame(Q8_0x32Format.INSTANCE, packed.blockCodec());
        assertArrayEquals(whole.storage().segment().toArray(ValueLayout.JAVA_BYTE),
                RowGroupFormats.unpacked(packed).storage().segment().toArray(ValueLayout.JAVA_BYTE));
        Tensor odd = Tensor.blockQuantized(Q8_0Format.INSTANCE, plainRows(r, 33, 64), 33, 64);
        assertSame(odd, Q8_0x32Format.repacked(odd));                          // 33 rows: ggml's rows and kernel
        MemorySegment inf = plainRows(r, 32, 64);
        inf.set(QuantVectors.SHORT, 5 * 68 + 34, (short) 0x7c00);                  // row 5, block 1: d = +Inf
        Tensor withInf = Tensor.blockQuantized(Q8_0Format.INSTANCE, inf, 32, 64);
        assertSame(withInf, Q8_0x32Format.repacked(withInf));                    // no exact widening: ggml's rows kept
        float[] infinite = new float[64];
        infinite[40] = Float.POSITIVE_INFINITY;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q8_0x32Format.INSTANCE.encodeRow(infinite, 0, 64, Arena.ofAuto().allocate(32 * 68), 3 * 68));
        assertTrue(e.getMessage().contains("row 3") && e.getMessage().contains("32..63"), e.getMessage());
    }

    @Test
    void productMatchesTheDequantizedWeightsWithinItsRoundingAndIsItsOwnDotBitForBit() {
        assumeTrue(Q8_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(15);
        for (int[] shape : new int[][] {{32, 32}, {96, 160}, {64, 2080}}) {
            int rows = shape[0], cols = shape[1], nb = cols / 32;
            long rb = Q8_0x32Format.INSTANCE.rowBytes(cols), plainRow = GgmlType.Q8_0.rowBytes(cols);
            MemorySegment plain = plainRows(r, rows + 32, cols);
            MemorySegment packed = Q8_0x32Format.interleave(plain, 0, rows + 32, cols);
            long offset = 32 * rb;                                               // the matrix starts at the second group
            double u = 0x1p-24, gamma = (nb + 33) * u / (1 - (nb + 33) * u);
            for (int m : new int[] {1, 2, 3, 4, 5, 7, 9, 33, 70}) {   // from 32 rows through the widened panel
                float[] x = new float[m * cols + 3];
                for (int k = 0; k < x.length; k++) x[k] = (float) (r.nextGaussian() * (k % 97 == 0 ? 30 : 1));
                float[] one = run(1, packed, offset, rows, cols, x, m), two = run(2, packed, offset, rows, cols, x, m);
                assertArrayEquals(one, two, "threads, m = " + m);
                for (int i = 0; i < m; i++) {
                    float[] gemv = new float[rows];
                    BlockMatmul.gemv(Q8_0x32Format.INSTANCE, packed, offset, rows, cols, x, 3 + i * cols, gemv, 0);
                    assertArrayEquals(gemv, java.util.Arrays.copyOfRange(one, i * rows, (i + 1) * rows), "row " + i + " of " + m + " is its GEMV");
                    for (int row = 0; row < rows; row++) {
                        float dot = Q8_0x32Format.INSTANCE.dot(packed, offset + row * rb, cols, x, 3 + i * cols);
                        assertEquals(Float.floatToRawIntBits(dot), Float.floatToRawIntBits(gemv[row]), "row " + row + " of x " + i + ": the codec's dot");
                        double exact = 0, terms = 0;
                        for (int b = 0; b < nb; b++) {
                            long o = (row + 32) * plainRow + b * 34L;
                            double d = Float.float16ToFloat(plain.get(QuantVectors.SHORT, o)), s = 0, abs = 0;
                            for (int j = 0; j < 32; j++) {
                                double p = plain.get(ValueLayout.JAVA_BYTE, o + 2 + j) * (double) x[3 + i * cols + b * 32 + j];
                                s += p;
                                abs += Math.abs(p);
                            }
                            exact += d * s;
                            terms += Math.abs(d) * abs;
                        }
                        double got = one[i * rows + row], bound = gamma * terms + 1e-30;
                        assertTrue(Math.abs(got - exact) <= bound, "row " + row + " of x " + i + ": " + got + " vs " + exact + " ± " + bound);
                    }
                }
            }
        }
    }

    @Test
    void productsRefuseRowsThatAreNotWholeGroups() {
        assumeTrue(Q8_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        MemorySegment packed = Q8_0x32Format.interleave(MemorySegment.ofArray(new byte[64 * 34]), 0, 64, 32);
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q8_0x32Format.INSTANCE, packed, 0, 33, 32, new float[32], 0, new float[33], 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q8_0x32Format.INSTANCE, packed, 20, 32, 32, new float[32], 0, new float[32], 0));
    }

    private static float[] run(int threads, MemorySegment w, long offset, int rows, int cols, float[] x, int m) {
        Parallel.setThreads(threads);
        float[] out = new float[m * rows];
        BlockMatmul.gemm(Q8_0x32Format.INSTANCE, w, offset, rows, cols, x, 3, m, out, 0);
        return out;
    }
}
