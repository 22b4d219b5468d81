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
 * Q4_0 repacked in groups of 32 rows: the layout against ggml's Q4_0 rows (round trips byte for byte, the same dequantized
 * floats), and the integer product against two oracles in double precision:
 * <ul>
 * <li>its own semantics — activations quantized per 32-block as ggml's Q8_0 (scalar oracle: d = amax/127, code =
 *     rint(x/d)), exact integer block sums S_b = Σ (q − 8)·a, out = Σ_b d_w·d_a·S_b — within the F32 rounding of the
 *     kernel: one rounding of d_w·d_a per block and nb rounded additions, so |kernel − oracle| ≤ (nb + 2)·2⁻²⁴·Σ_b |d_w·d_a·S_b|;</li>
 * <li>the exact product with the F32 activations, within the activation quantization error: per element |x − a·d_a| ≤
 *     amax/254·(1 + 2⁻¹⁴), so |out − Σ w·x| ≤ Σ_b amax_b/254·(1 + 2⁻¹⁴)·Σ_{k∈b} |w_k| plus the bound above.</li>
 * </ul>
 * Shapes: 32 and 96 rows (one and three groups), 1 to 65 blocks per row, 1 to 9 and 70 activation rows (the 4-row kernel, its
 * remainder and a block of 64 rows; on AVX2, 70 rows are 66 through the float panel's six-row tiles and 4 through the 4-row
 * kernel), a matrix starting at its second group; every row of a product of m rows is that row's GEMV, bit for bit, on one
 * thread and two.
 */
class Q4_0x32FormatTest {
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
        MemorySegment plain = MemorySegment.ofArray(new byte[Math.toIntExact(rows * GgmlType.Q4_0.rowBytes(cols))]);
        for (int i = 0; i < rows; i++) Q4_0Format.INSTANCE.quantizeRow(w, i * cols, plain, i * GgmlType.Q4_0.rowBytes(cols), cols);
        return plain;
    }

    @Test
    void layoutRoundTripsAndDequantizesAsQ4_0() {
        assumeTrue(Q4_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(3);
        for (int[] shape : new int[][] {{32, 32}, {64, 96}, {96, 2080}}) {
            int rows = shape[0], cols = shape[1];
            MemorySegment plain = plainRows(r, rows, cols);
            MemorySegment packed = Q4_0x32Format.interleave(plain, 0, rows, cols);
            assertEquals(rows * Q4_0x32Format.INSTANCE.rowBytes(cols), packed.byteSize());
            assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), Q4_0x32Format.plain(packed, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE));
            long rb = Q4_0x32Format.INSTANCE.rowBytes(cols);
            for (int i = 0; i < rows; i++) {
                float[] want = new float[cols], got = new float[cols + 64];
                Q4_0Format.INSTANCE.dequantizeRow(plain, i * GgmlType.Q4_0.rowBytes(cols), want, 0, cols);
                Q4_0x32Format.INSTANCE.dequantize(packed, i * rb, cols, 0, cols, got, 0);
                assertArrayEquals(want, java.util.Arrays.copyOf(got, cols), "row " + i);
                if (cols >= 64) {                                                 // a chunk from the second block on
                    Q4_0x32Format.INSTANCE.dequantize(packed, i * rb, cols, 32, 32, got, 7);
                    assertArrayEquals(java.util.Arrays.copyOfRange(want, 32, 64), java.util.Arrays.copyOfRange(got, 7, 39));
                }
            }
            // encodeRow writes each row into its group as the repack of ggml's quantizer would
            float[] src = new float[rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            MemorySegment viaQ4 = MemorySegment.ofArray(new byte[Math.toIntExact(rows * GgmlType.Q4_0.rowBytes(cols))]);
            MemorySegment direct = Arena.ofAuto().allocate(rows * rb);
            for (int i = 0; i < rows; i++) {
                Q4_0Format.INSTANCE.quantizeRow(src, i * cols, viaQ4, i * GgmlType.Q4_0.rowBytes(cols), cols);
                Q4_0x32Format.INSTANCE.encodeRow(src, i * cols, cols, direct, i * rb);
            }
            assertArrayEquals(Q4_0x32Format.interleave(viaQ4, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE), direct.toArray(ValueLayout.JAVA_BYTE));
        }
        assertThrows(IllegalArgumentException.class, () -> Q4_0x32Format.interleave(MemorySegment.ofArray(new byte[18 * 33]), 0, 33, 32));
    }

    @Test
    void the256BitKernelGivesTheBitsOfThe512BitOne() {
        // the 512-bit kernel runs on any machine (on AVX2 the Vector API computes its vectors in Java, slowly): both compared
        // everywhere; 50 rows take the 256-bit kernel's float panel
        Random r = new Random(8);
        for (int[] shape : new int[][] {{64, 96}, {96, 2080}}) {
            int rows = shape[0], cols = shape[1], blocks = cols / 32;
            MemorySegment packed = Q4_0x32Format.interleave(plainRows(r, rows, cols), 0, rows, cols);
            long base = QuantVectors.checkedAddress(packed, 0, packed.byteSize());
            for (int m : cols < 1000 ? new int[] {1, 2, 3, 4, 5, 7, 50} : new int[] {1, 2, 3, 4, 5, 7}) {
                org.jtune.tensor.Q8Rows x = RandomActivations.of(r, m, cols, 32);
                float[] want = new float[m * rows], got = new float[m * rows];
                Q4_0x32Format.multiply512(base, 0, rows / 32, blocks, x, want, 0, rows);
                Q4_0x32Lanes8.multiply(base, 0, rows / 32, blocks, x, got, 0, rows);
                assertArrayEquals(want, got, rows + "x" + cols + ", m = " + m);
            }
            java.lang.ref.Reference.reachabilityFence(packed);   // the kernels read it by address: keep it from being freed before
        }
    }

    @Test
    void tensorsRepackOnlyWholeGroupsAndUnpackToGgmlRows() {
        assumeTrue(Q4_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(4);
        Tensor whole = Tensor.blockQuantized(Q4_0Format.INSTANCE, plainRows(r, 64, 64), 64, 64);
        Tensor packed = Q4_0x32Format.repacked(whole);
        assertSame(Q4_0x32Format.INSTANCE, packed.blockCodec());
        assertArrayEquals(whole.storage().segment().toArray(ValueLayout.JAVA_BYTE),
                Q4_0x32Format.unpacked(packed).storage().segment().toArray(ValueLayout.JAVA_BYTE));
        Tensor odd = Tensor.blockQuantized(Q4_0Format.INSTANCE, plainRows(r, 33, 64), 33, 64);
        assertSame(odd, Q4_0x32Format.repacked(odd));                          // 33 rows: ggml's rows and kernel
        MemorySegment inf = plainRows(r, 32, 64);
        inf.set(QuantVectors.SHORT, 5 * 36 + 18, (short) 0x7c00);                  // row 5, block 1: d = +Inf
        Tensor withInf = Tensor.blockQuantized(Q4_0Format.INSTANCE, inf, 32, 64);
        assertSame(withInf, Q4_0x32Format.repacked(withInf));                    // no exact widening: ggml's rows kept
        float[] nan = new float[64];
        nan[40] = Float.POSITIVE_INFINITY;                                         // ggml's quantizer skips NaN but not Inf
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q4_0x32Format.INSTANCE.encodeRow(nan, 0, 64, Arena.ofAuto().allocate(32 * 36), 3 * 36));
        assertTrue(e.getMessage().contains("row 3") && e.getMessage().contains("32..63"), e.getMessage());
        Tensor q8 = Tensor.blockQuantized(Q8_0Format.INSTANCE, MemorySegment.ofArray(new byte[64 * 68]), 64, 64);
        assertSame(q8, Q4_0x32Format.repacked(q8));
    }

    @Test
    void productMatchesItsIntegerSemanticsAndTheExactProduct() {
        assumeTrue(Q4_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(5);
        // 21 groups of 64 columns: one piece of the product, so its groups go in pairs and one alone
        for (int[] shape : new int[][] {{32, 32}, {96, 160}, {64, 2080}, {672, 64}}) {
            int rows = shape[0], cols = shape[1], nb = cols / 32;
            long rb = Q4_0x32Format.INSTANCE.rowBytes(cols);
            MemorySegment plain = plainRows(r, rows + 32, cols);
            MemorySegment packed = Q4_0x32Format.interleave(plain, 0, rows + 32, cols);
            long offset = 32 * rb;                                               // the matrix starts at the second group
            float[][] w = new float[rows][cols];
            for (int i = 0; i < rows; i++) Q4_0Format.INSTANCE.dequantizeRow(plain, (i + 32) * GgmlType.Q4_0.rowBytes(cols), w[i], 0, cols);
            for (int m : new int[] {1, 2, 3, 4, 5, 7, 9, 70}) {
                float[] x = new float[m * cols + 3];
                for (int k = 0; k < x.length; k++) x[k] = (float) (r.nextGaussian() * (k % 97 == 0 ? 30 : 1));
                if (m > 1) java.util.Arrays.fill(x, 3, 3 + 32, 0f);             // an all-zero activation block
                float[] one = run(true, 1, packed, offset, rows, cols, x, m), two = run(true, 2, packed, offset, rows, cols, x, m);
                assertArrayEquals(one, two, "threads, m = " + m);
                for (int i = 0; i < m; i++) {
                    float[] gemv = new float[rows];
                    Parallel.setThreads(2);
                    BlockMatmul.gemv(Q4_0x32Format.INSTANCE, packed, offset, rows, cols, x, 3 + i * cols, gemv, 0);
                    assertArrayEquals(gemv, java.util.Arrays.copyOfRange(one, i * rows, (i + 1) * rows), "row " + i + " of " + m + " is its GEMV");
                    float[] codes = new float[cols], scales = new float[nb];
                    double[] amax = new double[nb];
                    for (int b = 0; b < nb; b++) {
                        float a = 0f;
                        for (int j = 0; j < 32; j++) a = Math.max(a, Math.abs(x[3 + i * cols + b * 32 + j]));
                        float d = a / 127f, id = d != 0f ? 1f / d : 0f;
                        scales[b] = d;
                        amax[b] = a;
                        for (int j = 0; j < 32; j++) codes[b * 32 + j] = (float) Math.rint(x[3 + i * cols + b * 32 + j] * id);
                    }
                    for (int row = 0; row < rows; row++) {
                        double semantic = 0, terms = 0, exact = 0, quantError = 0;
                        for (int b = 0; b < nb; b++) {
                            float dw = Float.float16ToFloat(plain.get(QuantVectors.SHORT, (row + 32) * GgmlType.Q4_0.rowBytes(cols) + b * 18L));
                            long s = 0;
                            double absW = 0;
                            for (int j = 0; j < 32; j++) {
                                int k = b * 32 + j;
                                s += Math.round(w[row][k] / (dw == 0f ? 1f : dw)) * (long) codes[k];   // the code q − 8, exactly
                                exact += (double) w[row][k] * x[3 + i * cols + k];
                                absW += Math.abs(w[row][k]);
                            }
                            double t = (double) dw * scales[b] * s;
                            semantic += t;
                            terms += Math.abs(t);
                            quantError += amax[b] / 254 * (1 + 0x1p-14) * absW;
                        }
                        double got = one[i * rows + row], rounding = (nb + 2) * 0x1p-24 * terms + 1e-30;
                        assertTrue(Math.abs(got - semantic) <= rounding, "row " + row + " of x " + i + ": " + got + " vs " + semantic + " ± " + rounding);
                        assertTrue(Math.abs(got - exact) <= quantError + rounding + 1e-30,
                                "row " + row + " of x " + i + ": " + got + " vs exact " + exact + " ± " + (quantError + rounding));
                    }
                }
            }
        }
    }

    @Test
    void activationScalesOfAnySizeScaleTheProductExactly() {
        // the 256-bit kernel splits the scales' power of two between weight and activation scale: scales of 2^64 and more
        // (activations beyond 10^21) take the other split, and a power-of-two factor on every activation scale still comes
        // out of every output exactly, as from d·d_a rounded once
        assumeTrue(Q4_0x32Format.ENABLED, "needs 8 or 16 F32 lanes");
        Random r = new Random(9);
        int rows = 64, cols = 320;
        MemorySegment packed = Q4_0x32Format.interleave(plainRows(r, rows, cols), 0, rows, cols);
        for (int m : new int[] {1, 2, 4}) {
            org.jtune.tensor.Q8Rows x = RandomActivations.of(r, m, cols, 32);
            float[] want = new float[m * rows];
            Q4_0x32Format.INSTANCE.multiplyGroups(packed, 0, 0, rows / 32, cols, x, want, 0, rows);
            for (float factor : new float[] {0x1p40f, 0x1p80f}) {
                float[] scales = x.scales().clone();
                for (int b = 0; b < scales.length; b++) scales[b] *= factor;
                org.jtune.tensor.Q8Rows big = new org.jtune.tensor.Q8Rows(x.codes(), scales, x.sums(), x.sums8(), m, cols, 32);
                float[] got = new float[m * rows];
                Q4_0x32Format.INSTANCE.multiplyGroups(packed, 0, 0, rows / 32, cols, big, got, 0, rows);
                for (int i = 0; i < got.length; i++) assertEquals(want[i] * factor, got[i], "output " + i + ", m = " + m + ", scales × " + factor);
            }
        }
    }

    @Test
    void productsRefuseRowsThatAreNotWholeGroups() {
        assumeTrue(Q4_0x32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        MemorySegment packed = Q4_0x32Format.interleave(MemorySegment.ofArray(new byte[64 * 18]), 0, 64, 32);
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q4_0x32Format.INSTANCE, packed, 0, 33, 32, new float[32], 0, new float[33], 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q4_0x32Format.INSTANCE, packed, 20, 32, 32, new float[32], 0, new float[32], 0));
    }

    private static float[] run(boolean gemm, int threads, MemorySegment w, long offset, int rows, int cols, float[] x, int m) {
        Parallel.setThreads(threads);
        float[] out = new float[m * rows];
        BlockMatmul.gemm(Q4_0x32Format.INSTANCE, w, offset, rows, cols, x, 3, m, out, 0);
        return out;
    }
}
