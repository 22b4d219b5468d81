package org.jtune.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import org.jtune.tensor.Q8Rows;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.BlockMatmul;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Q6_K repacked in groups of 32 rows: the layout against ggml's Q6_K rows (round trips byte for byte, the same dequantized
 * floats), and the integer product against two oracles in double precision:
 * <ul>
 * <li>its own semantics — activations quantized per 256 values as ggml's Q8_K (scalar oracle: d_a = amax/127 in F32,
 *     code = rint(x·(1/d_a)) in F32), exact integers T_b = Σ_g sc_g·Σ_{i∈g} (q_i − 32)·a_i from ggml's bytes decoded here,
 *     out = Σ_b d·d_a·T_b — within the kernel's F32 rounding: T_b converted (one rounding), d·d_a (one), nb rounded
 *     additions, so |kernel − oracle| ≤ (nb + 3)·2⁻²⁴·Σ_b |d·d_a·T_b|;</li>
 * <li>the exact product with the F32 activations, within the activation quantization error: per element |x − a·d_a| ≤
 *     amax/254·(1 + 2⁻¹⁴), and the dequantized weights d·sc·(q − 32) are exact in F32 (at most 11 + 7 + 5 significant
 *     bits), so |out − Σ w·x| ≤ Σ_b amax_b/254·(1 + 2⁻¹⁴)·Σ_{k∈b} |w_k| plus the bound above.</li>
 * </ul>
 * Weights from ggml's quantizer (with an all-zero super-block, d = 0, and a subnormal F16 d) and raw random ggml bytes
 * (every code 0..63 and scale −128..127), plus the extremes of the 16-bit sums (all q = 0 or 63, scales −128, every
 * activation code ±127). Shapes: 32, 64 and 96 rows, 256 to 2304 columns, 1 to 9 and 70 activation rows (the 4-row
 * kernel, the 256-bit float panel and their remainders), a matrix starting at its second group; every row of a product of m rows is that row's GEMV,
 * bit for bit, on one thread and two.
 */
class Q6_Kx32FormatTest {
    private static final int PLAIN = 210;
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    private static long plainRow(int cols) {
        return GgmlType.Q6_K.rowBytes(cols);
    }

    /** ggml's quantizer on random rows; row 1's first super-block all zero (d = 0), row 2's with a subnormal F16 d. */
    private static MemorySegment quantizedRows(Random r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(3) - 2));
        for (int k = 0; k < 256 && rows > 1; k++) w[cols + k] = 0f;
        for (int k = 0; k < 256 && rows > 2; k++) w[2 * cols + k] = (float) (r.nextGaussian() * 1e-3);
        MemorySegment plain = MemorySegment.ofArray(new byte[Math.toIntExact(rows * plainRow(cols))]);
        for (int i = 0; i < rows; i++) Q6KFormat.INSTANCE.quantizeRow(w, i * cols, plain, i * plainRow(cols), cols);
        if (rows > 2) {
            int d = plain.get(QuantVectors.SHORT, 2 * plainRow(cols) + 208) & 0x7fff;
            assertTrue(d != 0 && d < 0x0400, "row 2's d is subnormal: " + Integer.toHexString(d));
        }
        return plain;
    }

    /** Random ggml bytes: every code and scale, d a finite F16 of about 1e-3; rows 3 and 4 of each group all q = 0 and all q = 63, scales −128. */
    private static MemorySegment randomRows(Random r, int rows, int cols) {
        byte[] b = new byte[Math.toIntExact(rows * plainRow(cols))];
        r.nextBytes(b);
        for (int i = 0; i < rows; i++) {
            for (int s = 0; s < cols / 256; s++) {
                int o = (int) (i * plainRow(cols)) + s * PLAIN;
                if (i % 32 == 3 || i % 32 == 4) {
                    Arrays.fill(b, o, o + 192, (byte) (i % 32 == 3 ? 0 : 0xff));
                    Arrays.fill(b, o + 192, o + 208, (byte) 0x80);
                }
                short d = Float.floatToFloat16((float) (r.nextGaussian() * 1e-3));
                b[o + 208] = (byte) d;
                b[o + 209] = (byte) (d >> 8);
            }
        }
        return MemorySegment.ofArray(b);
    }

    /** Code q (0..63) of weight k of the ggml Q6_K row at byte o, decoded from ggml's layout. */
    private static int code(MemorySegment p, long o, int k) {
        long s = o + (long) (k / 256) * PLAIN;
        int h = k % 256 / 128, l = k % 32, quarter = k % 128 / 32;
        int ql = p.get(ValueLayout.JAVA_BYTE, s + 64 * h + l + (quarter % 2) * 32) & 0xff;
        int qh = p.get(ValueLayout.JAVA_BYTE, s + 128 + 32 * h + l) & 0xff;
        return (quarter < 2 ? ql & 15 : ql >> 4) | (qh >> (2 * quarter) & 3) << 4;
    }

    @Test
    void the256BitKernelGivesTheBitsOfThe512BitOne() {
        // the 512-bit kernel runs on any machine (on AVX2 the Vector API computes its vectors in Java, slowly): both compared
        // everywhere; from 6 rows the 256-bit kernel takes its float panel
        Random r = new Random(10);
        for (int[] shape : new int[][] {{64, 256}, {96, 1280}}) {
            int rows = shape[0], cols = shape[1], blocks = cols / 256;
            MemorySegment packed = Q6_Kx32Format.interleave(quantizedRows(r, rows, cols), 0, rows, cols);
            long base = QuantVectors.checkedAddress(packed, 0, packed.byteSize());
            for (int m : cols < 1000 ? new int[] {1, 2, 5, 7, 26} : new int[] {1, 2, 5}) {
                Q8Rows x = RandomActivations.of(r, m, cols, 256);
                float[] want = new float[m * rows], got = new float[m * rows];
                Q6_Kx32Format.multiply512(base, 0, rows / 32, blocks, x, want, 0, rows);
                Q6_Kx32Lanes8.multiply(base, 0, rows / 32, blocks, x, got, 0, rows);
                assertArrayEquals(want, got, rows + "x" + cols + ", m = " + m);
            }
            java.lang.ref.Reference.reachabilityFence(packed);   // the kernels read it by address: keep it from being freed before
        }
    }

    @Test
    void layoutRoundTripsAndDequantizesAsQ6_K() {
        assumeTrue(Q6_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(3);
        for (int[] shape : new int[][] {{32, 256}, {64, 512}, {96, 2304}}) {
            int rows = shape[0], cols = shape[1];
            for (MemorySegment plain : new MemorySegment[] {quantizedRows(r, rows, cols), randomRows(r, rows, cols)}) {
                MemorySegment packed = Q6_Kx32Format.interleave(plain, 0, rows, cols);
                assertNotNull(packed);
                assertEquals(rows * plainRow(cols), packed.byteSize());
                assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), Q6_Kx32Format.plain(packed, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE));
                long rb = Q6_Kx32Format.INSTANCE.rowBytes(cols);
                assertEquals(plainRow(cols), rb);
                for (int i = 0; i < rows; i++) {
                    float[] want = new float[cols], got = new float[cols + 300];
                    Q6KFormat.INSTANCE.dequantizeRow(plain, i * plainRow(cols), want, 0, cols);
                    Q6_Kx32Format.INSTANCE.dequantize(packed, i * rb, cols, 0, cols, got, 0);
                    assertArrayEquals(want, Arrays.copyOf(got, cols), "row " + i);
                    if (cols >= 512) {                                             // a chunk from the second super-block on
                        Q6_Kx32Format.INSTANCE.dequantize(packed, i * rb, cols, 256, 256, got, 7);
                        assertArrayEquals(Arrays.copyOfRange(want, 256, 512), Arrays.copyOfRange(got, 7, 263));
                    }
                }
            }
            // encodeRow writes each row into its group as the repack of ggml's quantizer would
            float[] src = new float[rows * cols];
            for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
            MemorySegment viaQ6 = MemorySegment.ofArray(new byte[Math.toIntExact(rows * plainRow(cols))]);
            long rb = Q6_Kx32Format.INSTANCE.rowBytes(cols);
            MemorySegment direct = Arena.ofAuto().allocate(rows * rb);
            for (int i = 0; i < rows; i++) {
                Q6KFormat.INSTANCE.quantizeRow(src, i * cols, viaQ6, i * plainRow(cols), cols);
                Q6_Kx32Format.INSTANCE.encodeRow(src, i * cols, cols, direct, i * rb);
            }
            assertArrayEquals(Q6_Kx32Format.interleave(viaQ6, 0, rows, cols).toArray(ValueLayout.JAVA_BYTE), direct.toArray(ValueLayout.JAVA_BYTE));
        }
        assertThrows(IllegalArgumentException.class, () -> Q6_Kx32Format.interleave(MemorySegment.ofArray(new byte[PLAIN * 33]), 0, 33, 256));
        assertThrows(IllegalArgumentException.class, () -> Q6_Kx32Format.interleave(MemorySegment.ofArray(new byte[PLAIN * 32]), 0, 32, 128));
    }

    @Test
    void tensorsRepackOnlyWholeGroupsAndUnpackToGgmlRows() {
        assumeTrue(Q6_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(4);
        Tensor whole = Tensor.blockQuantized(Q6KFormat.INSTANCE, quantizedRows(r, 64, 512), 64, 512);
        Tensor packed = Q6_Kx32Format.repacked(whole);
        assertSame(Q6_Kx32Format.INSTANCE, packed.blockCodec());
        assertArrayEquals(whole.storage().segment().toArray(ValueLayout.JAVA_BYTE),
                Q6_Kx32Format.unpacked(packed).storage().segment().toArray(ValueLayout.JAVA_BYTE));
        Tensor odd = Tensor.blockQuantized(Q6KFormat.INSTANCE, quantizedRows(r, 33, 512), 33, 512);
        assertSame(odd, Q6_Kx32Format.repacked(odd));                          // 33 rows: ggml's rows and kernel
        MemorySegment inf = quantizedRows(r, 32, 512);
        inf.set(QuantVectors.SHORT, 5 * 420 + 210 + 208, (short) 0x7c00);         // row 5, super-block 1: d = +Inf
        Tensor withInf = Tensor.blockQuantized(Q6KFormat.INSTANCE, inf, 32, 512);
        assertSame(withInf, Q6_Kx32Format.repacked(withInf));                    // no exact widening: ggml's rows kept
        float[] huge = new float[512];
        huge[300] = 1e10f;                                                        // d = max scale / −128 overflows F16
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Q6_Kx32Format.INSTANCE.encodeRow(huge, 0, 512, Arena.ofAuto().allocate(32 * 420), 3 * 420));
        assertTrue(e.getMessage().contains("row 3") && e.getMessage().contains("256..511"), e.getMessage());
        Tensor q8 = Tensor.blockQuantized(Q8_0Format.INSTANCE, MemorySegment.ofArray(new byte[64 * 68]), 64, 64);
        assertSame(q8, Q6_Kx32Format.repacked(q8));
        Tensor q4 = Tensor.blockQuantized(Q4_0Format.INSTANCE, MemorySegment.ofArray(new byte[64 * 18 * 8]), 64, 256);
        assertSame(q4, Q6_Kx32Format.repacked(q4));
        assertSame(q4, Q6_Kx32Format.unpacked(q4));
    }

    @Test
    void productMatchesItsIntegerSemanticsAndTheExactProduct() {
        assumeTrue(Q6_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        Random r = new Random(5);
        int[][] shapes = {{32, 256, 0}, {96, 512, 0}, {64, 2304, 0}, {32, 256, 1}, {64, 512, 1}, {32, 2048, 1}};
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1], nb = cols / 256;
            boolean raw = shape[2] == 1;
            long rb = Q6_Kx32Format.INSTANCE.rowBytes(cols), pr = plainRow(cols);
            MemorySegment plain = raw ? randomRows(r, rows + 32, cols) : quantizedRows(r, rows + 32, cols);
            MemorySegment packed = Q6_Kx32Format.interleave(plain, 0, rows + 32, cols);
            long offset = 32 * rb;                                               // the matrix starts at the second group
            float[][] w = new float[rows][cols];
            for (int i = 0; i < rows; i++) Q6KFormat.INSTANCE.dequantizeRow(plain, (i + 32) * pr, w[i], 0, cols);
            for (int m : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 70}) {
                float[] x = new float[m * cols + 3];
                for (int k = 0; k < x.length; k++) x[k] = (float) (r.nextGaussian() * (k % 97 == 0 ? 30 : 1));
                if (m > 1) Arrays.fill(x, 3, 3 + 256, 0f);                      // an all-zero activation super-block
                if (m > 2) Arrays.fill(x, 3 + cols, 3 + 2 * cols, 1f);           // every code 127
                if (m > 3) for (int k = 0; k < cols; k++) x[3 + 2 * cols + k] = k % 2 == 0 ? -2f : 2f;   // ±127
                float[] one = run(1, packed, offset, rows, cols, x, m), two = run(2, packed, offset, rows, cols, x, m);
                assertArrayEquals(one, two, "threads, m = " + m);
                for (int i = 0; i < m; i++) {
                    float[] gemv = new float[rows];
                    Parallel.setThreads(2);
                    BlockMatmul.gemv(Q6_Kx32Format.INSTANCE, packed, offset, rows, cols, x, 3 + i * cols, gemv, 0);
                    assertArrayEquals(gemv, Arrays.copyOfRange(one, i * rows, (i + 1) * rows), "row " + i + " of " + m + " is its GEMV");
                    float[] codes = new float[cols], scales = new float[nb];
                    double[] amax = new double[nb];
                    for (int b = 0; b < nb; b++) {
                        float a = 0f;
                        for (int j = 0; j < 256; j++) a = Math.max(a, Math.abs(x[3 + i * cols + b * 256 + j]));
                        float d = a / 127f, id = d != 0f ? 1f / d : 0f;
                        scales[b] = d;
                        amax[b] = a;
                        for (int j = 0; j < 256; j++) codes[b * 256 + j] = (float) Math.rint(x[3 + i * cols + b * 256 + j] * id);
                    }
                    for (int row = 0; row < rows; row++) {
                        long o = (row + 32) * pr;
                        double semantic = 0, terms = 0, exact = 0, quantError = 0;
                        for (int b = 0; b < nb; b++) {
                            float dw = Float.float16ToFloat(plain.get(QuantVectors.SHORT, o + b * 210L + 208));
                            long t = 0;
                            double absW = 0;
                            for (int g = 0; g < 16; g++) {
                                long s = 0;
                                for (int j = 0; j < 16; j++) {
                                    int k = b * 256 + 16 * g + j;
                                    s += (code(plain, o, k) - 32) * (long) codes[k];
                                    exact += (double) w[row][k] * x[3 + i * cols + k];
                                    absW += Math.abs(w[row][k]);
                                }
                                t += plain.get(ValueLayout.JAVA_BYTE, o + b * 210L + 192 + g) * s;
                            }
                            assertTrue(Math.abs(t) < 1L << 31);
                            double term = (double) dw * scales[b] * t;
                            semantic += term;
                            terms += Math.abs(term);
                            quantError += amax[b] / 254 * (1 + 0x1p-14) * absW;
                        }
                        double got = one[i * rows + row], rounding = (nb + 3) * 0x1p-24 * terms + 1e-30;
                        assertTrue(Math.abs(got - semantic) <= rounding, "row " + row + " of x " + i + ", m = " + m + ", " + rows + "×" + cols
                                + (raw ? " raw" : "") + ": " + got + " vs " + semantic + " ± " + rounding);
                        assertTrue(Math.abs(got - exact) <= quantError + rounding + 1e-30,
                                "row " + row + " of x " + i + ": " + got + " vs exact " + exact + " ± " + (quantError + rounding));
                    }
                }
            }
        }
    }

    @Test
    void productsRefuseBadShapes() {
        assumeTrue(Q6_Kx32Format.ENABLED, "needs 16 F32 lanes (AVX-512)");
        MemorySegment packed = Q6_Kx32Format.interleave(MemorySegment.ofArray(new byte[64 * PLAIN]), 0, 64, 256);
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q6_Kx32Format.INSTANCE, packed, 0, 33, 256, new float[256], 0, new float[33], 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q6_Kx32Format.INSTANCE, packed, 210, 32, 256, new float[256], 0, new float[32], 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMatmul.gemv(Q6_Kx32Format.INSTANCE, packed, 0, 32, 128, new float[128], 0, new float[32], 0));
        Q8Rows per32 = new Q8Rows(new short[256], new float[8], new int[8], new short[32], 1, 256, 32);
        assertThrows(IllegalArgumentException.class, () -> Q6_Kx32Format.INSTANCE.multiplyGroups(packed, 0, 0, 1, 256, per32, new float[32], 0, 32));
        Q8Rows wide = new Q8Rows(new short[512], new float[2], new int[16], new short[64], 1, 512, 256);
        assertThrows(IllegalArgumentException.class, () -> Q6_Kx32Format.INSTANCE.multiplyGroups(packed, 0, 0, 1, 256, wide, new float[32], 0, 32));
    }

    private static float[] run(int threads, MemorySegment w, long offset, int rows, int cols, float[] x, int m) {
        Parallel.setThreads(threads);
        float[] out = new float[m * rows];
        BlockMatmul.gemm(Q6_Kx32Format.INSTANCE, w, offset, rows, cols, x, 3, m, out, 0);
        return out;
    }
}
