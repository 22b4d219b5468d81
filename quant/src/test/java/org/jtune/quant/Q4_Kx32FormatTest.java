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
import java.util.Arrays;
import java.util.Random;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.BlockMatmul;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Q4_K repacked in groups of 32 rows: the layout against ggml's Q4_K rows (round trips byte for byte, the same dequantized
 * floats, encodeRow = ggml's quantizer then the repack), and the integer product against two oracles in double precision,
 * built from ggml's bytes (codes q, 6-bit sc_j and m_j by get_scale_min_k4, F16 d and dmin):
 * <ul>
 * <li>its own semantics — activations quantized per 256 as ggml's Q8_K (d_a = amax/127, code = rint(x/d_a)),
 *     out = Σ_b d_a·(d·Σ_j sc_j·Σ q·a − dmin·Σ_j m_j·Σ a) with the sums exact — within the kernel's F32 rounding: per
 *     super-block the two integer totals and d·d_a, dmin·d_a are rounded once each and then added by two multiply-adds into
 *     the running sum, so |kernel − oracle| ≤ (2·nb + 4)·2⁻²⁴·Σ_b (|t_b| + |u_b|) with t_b, u_b the two terms;</li>
 * <li>the exact product Σ w·x with the F32 activations (w in double from the same bytes), within the activation
 *     quantization error Σ_b amax_b/254·(1 + 2⁻¹⁴)·Σ_{k∈b} |w_k| plus the bound above.</li>
 * </ul>
 * Shapes: 32, 64 and 96 rows, 1 to 9 super-blocks per row, 1 to 9 and 70 activation rows (the 4-row kernel, the 256-bit
 * float panel and their remainders), a matrix starting at its second group; every row of a product of m rows is that row's GEMV, bit for bit,
 * on one thread and two.
 */
class Q4_Kx32FormatTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    private static MemorySegment plainRows(Random r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(3) - 2) + (i % 512 < 32 ? 0.05 : 0));
        for (int k = 0; k < 256 && rows > 1; k++) w[cols + k] = 0f;              // an all-zero super-block: d = dmin = 0
        for (int k = 0; k < 256 && rows > 2; k++) w[2 * cols + k] *= 1e-5f;     // subnormal F16 d and dmin
        for (int k = 0; k < 256 && rows > 3; k++) w[3 * cols + k] = Math.abs(w[3 * cols + k]);   // no negative weight: min 0
        MemorySegment plain = MemorySegment.ofArray(new byte[Math.toIntExact(rows * GgmlType.Q4_K.rowBytes(cols))]);
        for (int i = 0; i < rows; i++) Q4KFormat.INSTANCE.quantizeRow(w, i * cols, plain, i * GgmlType.Q4_K.rowBytes(cols), cols);
        return plain;
    }

    @Test
    void the256BitKernelGivesTheBitsOfThe512BitOne() {
        // the 512-bit kernel runs on any machine (on AVX2 the Vector API computes its vectors in Java, slowly): both compared
        // everywhere; 26 rows take the 256-bit kernel's float panel
        Random r = new Random(9);
        for (int[] shape : new int[][] {{64, 256}, {96, 1280}}) {
            int rows = shape[0], cols = shape[1], blocks = cols / 256;
            MemorySegment packed = Q4_Kx32Format.interleave(plainRows(r, rows, cols), 0, rows, cols);
            long base = QuantVectors.checkedAddress(packed, 0, packed.byteSize());
            for (int m : cols < 1000 ? new int[] {1, 2, 3, 4, 5, 7, 26} : new int[] {1, 2, 3, 4, 5, 7}) {
                org.jtune.tensor.Q8Rows x = RandomActivations.of(r, m, cols, 256);
                float[] want = new float[m * rows], got = new float[m * rows];
                Q4_Kx32Format.multiply512(base, 0, rows / 32, blocks, x, want, 0, rows);
                Q4_Kx32Lanes8.multiply(base, 0, rows / 32, blocks, x, got, 0, rows);
                assertArrayEquals(want, got, rows + "x" + cols + ", m = " + m);
            }
            java.lang.ref.Reference.reachabilityFence(packed);   // the kernels read it by address: keep it from being freed before
        }
    }

    @Test
    void layoutRoundTripsAndDequantizesAsQ4_K() {
        assumeTrue(Q4_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(3);
        for (int[] shape : new int[][] {{32, 256}, {64, 512}, {96, 2304}}) {
            int rows = shape[0], cols = shape[1];
            long rb = Q4_Kx32Format.INSTANCE.rowBytes(cols);
            assertEquals(GgmlType.Q4_K.rowBytes(cols), rb);
            MemorySegment plain = plainRows(r, rows, cols);
            MemorySegment packed = Q4_Kx32Format.interleave(plain, 0, rows, cols);
            assertEquals(rows * rb, packed.byteSize());
            assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), Q4_Kx32Format.plain(packed, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE));
            for (int i = 0; i < rows; i++) {
                float[] want = new float[cols], got = new float[cols + 64];
                Q4KFormat.INSTANCE.dequantizeRow(plain, i * rb, want, 0, cols);
                Q4_Kx32Format.INSTANCE.dequantize(packed, i * rb, cols, 0, cols, got, 0);
                assertArrayEquals(want, Arrays.copyOf(got, cols), "row " + i);
                if (cols >= 512) {                                                         // across a super-block boundary
                    Q4_Kx32Format.INSTANCE.dequantize(packed, i * rb, cols, 224, 64, got, 7);
                    assertArrayEquals(Arrays.copyOfRange(want, 224, 288), Arrays.copyOfRange(got, 7, 71));
                }
            }
            float[] src = new float[rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            MemorySegment viaQ4K = MemorySegment.ofArray(new byte[Math.toIntExact(rows * rb)]);
            MemorySegment direct = Arena.ofAuto().allocate(rows * rb);
            for (int i = 0; i < rows; i++) {
                Q4KFormat.INSTANCE.quantizeRow(src, i * cols, viaQ4K, i * rb, cols);
                Q4_Kx32Format.INSTANCE.encodeRow(src, i * cols, cols, direct, i * rb);
            }
            assertArrayEquals(Q4_Kx32Format.interleave(viaQ4K, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE), direct.toArray(ValueLayout.JAVA_BYTE));
        }
        assertThrows(IllegalArgumentException.class, () -> Q4_Kx32Format.interleave(MemorySegment.ofArray(new byte[144 * 33]), 0, 33, 256));
        assertThrows(IllegalArgumentException.class, () -> Q4_Kx32Format.interleave(MemorySegment.ofArray(new byte[144 * 32]), 0, 32, 128));
    }

    @Test
    void tensorsRepackOnlyWholeGroupsAndUnpackToGgmlRows() {
        assumeTrue(Q4_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(4);
        Tensor whole = Tensor.blockQuantized(Q4KFormat.INSTANCE, plainRows(r, 64, 512), 64, 512);
        Tensor packed = Q4_Kx32Format.repacked(whole);
        assertSame(Q4_Kx32Format.INSTANCE, packed.blockCodec());
        assertArrayEquals(whole.storage().segment().toArray(ValueLayout.JAVA_BYTE),
                Q4_Kx32Format.unpacked(packed).storage().segment().toArray(ValueLayout.JAVA_BYTE));
        Tensor odd = Tensor.blockQuantized(Q4KFormat.INSTANCE, plainRows(r, 33, 256), 33, 256);
        assertSame(odd, Q4_Kx32Format.repacked(odd));
        for (int half : new int[] {0, 2}) {                                            // d, then dmin
            MemorySegment inf = plainRows(r, 32, 512);
            inf.set(QuantVectors.SHORT, 5 * 288 + 144 + half, (short) 0x7c00);          // row 5, super-block 1: +Inf
            Tensor withInf = Tensor.blockQuantized(Q4KFormat.INSTANCE, inf, 32, 512);
            assertSame(withInf, Q4_Kx32Format.repacked(withInf));
        }
        float[] inf = new float[512];
        inf[300] = Float.POSITIVE_INFINITY;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q4_Kx32Format.INSTANCE.encodeRow(inf, 0, 512, Arena.ofAuto().allocate(32 * 288), 3 * 288));
        assertTrue(e.getMessage().contains("row 3") && e.getMessage().contains("256..511"), e.getMessage());
        Tensor q40 = Tensor.blockQuantized(Q4_0Format.INSTANCE, MemorySegment.ofArray(new byte[64 * 288]), 64, 512);
        assertSame(q40, Q4_Kx32Format.repacked(q40));
    }

    @Test
    void productMatchesItsIntegerSemanticsAndTheExactProduct() {
        assumeTrue(Q4_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(5);
        for (int[] shape : new int[][] {{32, 256}, {96, 768}, {64, 2304}}) {
            int rows = shape[0], cols = shape[1], nb = cols / 256;
            long rb = Q4_Kx32Format.INSTANCE.rowBytes(cols);
            MemorySegment plain = plainRows(r, rows + 32, cols);
            MemorySegment packed = Q4_Kx32Format.interleave(plain, 0, rows + 32, cols);
            long offset = 32 * rb;                                                   // the matrix starts at the second group
            for (int m : new int[] {1, 2, 3, 4, 5, 7, 9, 70}) {
                float[] x = new float[m * cols + 3];
                for (int k = 0; k < x.length; k++) x[k] = (float) (r.nextGaussian() * (k % 97 == 0 ? 30 : 1));
                if (m > 1) Arrays.fill(x, 3, 3 + 256, 0f);                             // an all-zero activation super-block
                float[] one = run(1, packed, offset, rows, cols, x, m), two = run(2, packed, offset, rows, cols, x, m);
                assertArrayEquals(one, two, "threads, m = " + m);
                for (int i = 0; i < m; i++) {
                    float[] gemv = new float[rows];
                    BlockMatmul.gemv(Q4_Kx32Format.INSTANCE, packed, offset, rows, cols, x, 3 + i * cols, gemv, 0);
                    assertArrayEquals(gemv, Arrays.copyOfRange(one, i * rows, (i + 1) * rows), "row " + i + " of " + m + " is its GEMV");
                    checkRow(plain, rows, cols, nb, x, 3 + i * cols, Arrays.copyOfRange(one, i * rows, (i + 1) * rows));
                }
            }
        }
    }

    /** out[row] for rows 32.. of plain (the matrix at the second group) against both oracles. */
    private static void checkRow(MemorySegment plain, int rows, int cols, int nb, float[] x, int xo, float[] out) {
        long rb = GgmlType.Q4_K.rowBytes(cols);
        float[] codes = new float[cols], scales = new float[nb];
        double[] amax = new double[nb];
        for (int b = 0; b < nb; b++) {
            float a = 0f;
            for (int j = 0; j < 256; j++) a = Math.max(a, Math.abs(x[xo + b * 256 + j]));
            float d = a / 127f, id = d != 0f ? 1f / d : 0f;
            scales[b] = d;
            amax[b] = a;
            for (int j = 0; j < 256; j++) codes[b * 256 + j] = (float) Math.rint(x[xo + b * 256 + j] * id);
        }
        for (int row = 0; row < rows; row++) {
            double semantic = 0, terms = 0, exact = 0, quantError = 0;
            for (int b = 0; b < nb; b++) {
                long o = (row + 32) * rb + b * 144L;
                double d = Float.float16ToFloat(plain.get(QuantVectors.SHORT, o)), dmin = Float.float16ToFloat(plain.get(QuantVectors.SHORT, o + 2));
                long t = 0, u = 0;
                double absW = 0;
                for (int j = 0; j < 8; j++) {
                    int sm = Q4KFormat.scaleMin(plain, o + 4, j), sc = sm & 0xFF, mn = sm >>> 8;
                    long qa = 0, sa = 0;
                    for (int l = 0; l < 32; l++) {
                        int k = b * 256 + 32 * j + l;
                        int q = plain.get(ValueLayout.JAVA_BYTE, o + 16 + 32 * (j / 2) + l) & 0xFF;
                        q = j % 2 == 0 ? q & 15 : q >>> 4;
                        qa += q * (long) codes[k];
                        sa += (long) codes[k];
                        double w = d * sc * q - dmin * mn;
                        exact += w * x[xo + k];
                        absW += Math.abs(w);
                    }
                    t += sc * qa;
                    u += mn * sa;
                }
                double tb = scales[b] * d * t, ub = scales[b] * dmin * u;
                semantic += tb - ub;
                terms += Math.abs(tb) + Math.abs(ub);
                quantError += amax[b] / 254 * (1 + 0x1p-14) * absW;
            }
            double got = out[row], rounding = (2 * nb + 4) * 0x1p-24 * terms + 1e-30;
            assertTrue(Math.abs(got - semantic) <= rounding, "row " + row + ": " + got + " vs " + semantic + " ± " + rounding);
            assertTrue(Math.abs(got - exact) <= quantError + rounding, "row " + row + ": " + got + " vs exact " + exact + " ± " + (quantError + rounding));
        }
    }

    @Test
    void productsRefuseRowsThatAreNotWholeGroups() {
        assumeTrue(Q4_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        MemorySegment packed = Q4_Kx32Format.interleave(MemorySegment.ofArray(new byte[64 * 144]), 0, 64, 256);
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q4_Kx32Format.INSTANCE, packed, 0, 33, 256, new float[256], 0, new float[33], 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q4_Kx32Format.INSTANCE, packed, 144, 32, 256, new float[256], 0, new float[32], 0));
    }

    private static float[] run(int threads, MemorySegment w, long offset, int rows, int cols, float[] x, int m) {
        Parallel.setThreads(threads);
        float[] out = new float[m * rows];
        BlockMatmul.gemm(Q4_Kx32Format.INSTANCE, w, offset, rows, cols, x, 3, m, out, 0);
        return out;
    }
}
