package org.jtune.quant.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.BlockMatmul;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The integer block GEMM (8-bit activations, {@code BlockMatmul.gemmInt8}) on Q8_0, Q4_0 and Q5_0 weights, against
 * two scalar double-precision references, on odd shapes (rows around the 32-row panel, cols crossing the 256-column
 * chunk, m around the 4-row micro-kernel), activations given as non-contiguous views, and the same bits for any
 * thread count.
 *
 * <p>Reference 1, the exact product of the stored weights w and the activations a: the kernel quantizes a per
 * 32-block b to codes c·d_b with d_b = amax_b/127 and |a − c·d_b| ≤ amax_b/254·(1 + 2⁻¹⁴) (F32 rounding of d, 1/d
 * and a/d included); the block sums of code products are exact integers, and the nb block terms plus the nch chunk
 * sums are added in F32. Hence, with W_b = Σ_{k∈b}|w_k|:
 * <pre>  |kernel − Σ_k w_k·a_k| ≤ Σ_b amax_b·W_b·[(1 + 2⁻¹⁴)/254 + (nb + nch + 3)·2⁻²⁴·(1 + 1/254)].</pre>
 * (A bound in |a_k| alone, Σ|w_k·a_k|/254, would be wrong: a small a_k in a block with a large amax errs by up to
 * amax/254.) Reference 2, the integer semantics: codes from the scalar quantizer (Math.rint), block sums in exact
 * integers, then Σ_b d_w·d_a·S_b in double; the kernel differs from it by F32 rounding only,
 * (nb + nch + 3)·2⁻²⁴·Σ_b |d_w·d_a·S|_b with the block sums of |products|.
 */
class Int8GemmConformanceTest {
    private static final GgmlType[] TYPES = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0};
    private static final double U = 0x1p-24;
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    @Test
    void matchesTheExactProductWithinTheQuantizationBoundAndTheIntegerSemanticsToRounding() {
        Random rnd = new Random(29);
        for (GgmlType type : TYPES) {
            BlockFormat f = type.format();
            Int8BlockCodec codec = (Int8BlockCodec) f;
            for (int[] shape : new int[][] {{1, 1}, {7, 3}, {33, 9}, {70, 17}}) {
                int rows = shape[0], cols = shape[1] * 32, nb = cols / 32, nch = (cols + 255) / 256;
                float[] wf = new float[rows * cols];
                for (int i = 0; i < wf.length; i++) wf[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(3) - 2));
                Tensor w = encode(f, wf, rows, cols);
                if (type == GgmlType.Q8_0) plantMinus128(w, rows, cols, f);
                double[][] wd = dequantized(w, f, rows, cols);
                for (int m : new int[] {1, 2, 5, 9}) {
                    // activations as a non-contiguous view: a narrow of wider rows, every other row a different scale
                    float[] back = new float[m * (cols + 7)];
                    for (int i = 0; i < back.length; i++) back[i] = (float) (rnd.nextGaussian() * ((i / (cols + 7)) % 2 == 0 ? 1 : 1e-3));
                    Tensor x = Tensor.of(back, m, cols + 7).narrow(1, 3, cols);
                    float[] a = x.toFloatArray();
                    Parallel.setThreads(1);
                    float[] got = BlockMatmul.linearInt8(x, w).toFloatArray();
                    Parallel.setThreads(3);
                    assertArrayEquals(got, BlockMatmul.linearInt8(x, w).toFloatArray(), type + ": same bits for 1 and 3 threads");
                    for (int i = 0; i < m; i++) {
                        float[] codes = new float[cols], scales = new float[nb];
                        scalarQuantize(a, i * cols, cols, codes, scales);
                        for (int r = 0; r < rows; r++) {
                            double exact = 0, bound = 0, integer = 0, intMag = 0;
                            float[] wc = new float[cols], ws = new float[nb];
                            codec.codes(w.storage().segment(), r * f.rowBytes(cols), cols, 0, cols, wc, 0, ws, 0);
                            for (int b = 0; b < nb; b++) {
                                double amax = 0, wb = 0;
                                long s = 0, sMag = 0;
                                for (int k = b * 32; k < b * 32 + 32; k++) {
                                    exact += wd[r][k] * a[i * cols + k];
                                    amax = Math.max(amax, Math.abs(a[i * cols + k]));
                                    wb += Math.abs(wd[r][k]);
                                    long p = (long) wc[k] * (long) codes[k];
                                    s += p;
                                    sMag += Math.abs(p);
                                }
                                bound += amax * wb * ((1 + 0x1p-14) / 254 + (nb + nch + 3) * U * (1 + 1.0 / 254));
                                integer += (double) ws[b] * scales[b] * s;
                                intMag += Math.abs((double) ws[b] * scales[b]) * sMag;
                            }
                            double g = got[i * rows + r];
                            String at = type + " " + m + "×" + rows + "×" + cols + " [" + i + ", " + r + "]";
                            if (!(Math.abs(g - exact) <= bound + 1e-30)) fail(at + ": " + g + " vs exact " + exact + " beyond the bound " + bound);
                            double tol = (nb + nch + 3) * U * intMag + 1e-30;
                            if (!(Math.abs(g - integer) <= tol)) fail(at + ": " + g + " vs integer semantics " + integer + " ± " + tol);
                        }
                    }
                }
            }
        }
    }

    @Test
    void activationCodesAreGgmlsQ8_0Codes() {
        // ggml's quantize_row_q8_0_ref on a block: d = amax/127, q = round(x/d); here on values with known codes
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = (j - 16) * 0.5f;                       // amax 8 (j = 0): d = 8/127
        Tensor w = encode(GgmlType.Q8_0.format(), ones(), 1, 32);
        float got = BlockMatmul.linearInt8(Tensor.of(x, 1, 32), w).toFloatArray()[0];
        float[] one = new float[32];
        GgmlType.Q8_0.format().dequantizeRow(w.storage().segment(), 0, one, 0, 32);   // 127·f16(1/127) each
        double d = 8f / 127f, want = 0;
        for (int j = 0; j < 32; j++) want += Math.rint(x[j] / d) * d * one[j];        // Σ w·q·d
        assertEquals(want, got, 1e-5, "sum of the dequantized activation codes");
        float[] codes = new float[32], scales = new float[1];
        scalarQuantize(x, 0, 32, codes, scales);
        assertEquals(-127f, codes[0]);
        assertEquals(Math.rint(7.5 * 127 / 8), codes[31]);                         // 119.06 → 119
    }

    private static Tensor encode(BlockFormat f, float[] v, int rows, int cols) {
        MemorySegment bytes = MemorySegment.ofArray(new byte[Math.toIntExact(f.rowBytes(cols) * rows)]);
        for (int r = 0; r < rows; r++) f.encodeRow(v, r * cols, cols, bytes, r * f.rowBytes(cols));
        return Tensor.blockQuantized(f, bytes, rows, cols);
    }

    private static float[] ones() {
        float[] o = new float[32];
        java.util.Arrays.fill(o, 1f);
        return o;
    }

    /** The kernel's activation quantizer, one value at a time (ties to even). */
    private static void scalarQuantize(float[] a, int off, int cols, float[] codes, float[] scales) {
        for (int b = 0; b < cols / 32; b++) {
            float amax = 0f;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(a[off + b * 32 + j]));
            float d = amax / 127f, id = d != 0f ? 1f / d : 0f;
            scales[b] = d;
            for (int j = 0; j < 32; j++) codes[b * 32 + j] = (float) Math.rint(a[off + b * 32 + j] * id);
        }
    }

    /** Sets a few Q8_0 codes to −128 (a valid stored byte that ggml's quantizer never writes), the largest |code|. */
    private static void plantMinus128(Tensor w, int rows, int cols, BlockFormat f) {
        MemorySegment s = w.storage().segment();
        for (int r = 0; r < rows; r += 3) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, r * f.rowBytes(cols) + 2 + (r % 32), (byte) -128);
    }

    private static double[][] dequantized(Tensor w, BlockFormat f, int rows, int cols) {
        double[][] out = new double[rows][cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            f.dequantizeRow(w.storage().segment(), r * f.rowBytes(cols), row, 0, cols);
            for (int k = 0; k < cols; k++) out[r][k] = row[k];
        }
        return out;
    }
}
