package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Q8Rows;

/**
 * Activation rows quantized as ggml quantizes them for its integer dot products (block_q8_0, ggml-quants.c
 * {@code quantize_row_q8_0_ref}): per block of 32 values, d = amax/127, id = 1/d (0 when d = 0), code =
 * round(x·id) ∈ [−127, 127]; x ≈ code·d. Two deliberate differences from the file format, neither of which
 * changes a code: d is kept in F32 (ggml rounds it to F16, which adds up to 2⁻¹¹ relative error and flushes
 * blocks with amax below ~1e-5 towards zero), and ties round to even (ggml's AVX2/AVX-512 path; its scalar
 * reference rounds them away from zero).
 *
 * <p>Per element the quantization error is |x − code·d| ≤ d/2·(1 + 2⁻¹⁴) = amax/254·(1 + 2⁻¹⁴) (the 2⁻¹⁴
 * covers the F32 rounding of d, id and x·id), the figure the integer GEMM's error bound is built on. Codes are
 * stored as exact floats.
 */
final class Q8Activations {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int QK = Int8BlockCodec.BLOCK;
    /** 1.5·2²³: (v + M) − M rounds |v| < 2²² to the nearest integer, ties to even, in F32. */
    private static final float M = 12582912f;

    private Q8Activations() {}

    /**
     * Quantizes the m rows of {@code cols} values at x[xOff + i·cols ..] (cols a multiple of 32): codes[i·cols + k],
     * scales[i·cols/32 + b]. Rows are independent; the result does not depend on the thread count.
     */
    static void quantize(float[] x, int xOff, int m, int cols, float[] codes, float[] scales) {
        Parallel.forRange(m, Math.max(1, (16 << 10) / Math.max(1, cols)), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                for (int b = 0; b < cols / QK; b++) block(x, xOff + i * cols + b * QK, codes, i * cols + b * QK, scales, i * (cols / QK) + b);
            }
        });
    }

    static void block(float[] x, int xo, float[] codes, int co, float[] scales, int so) {
        if (QK % L != 0) {
            scalarBlock(x, xo, QK, codes, co, scales, so);
            return;
        }
        FloatVector mx = FloatVector.zero(F);
        for (int p = 0; p < QK; p += L) mx = mx.max(FloatVector.fromArray(F, x, xo + p).abs());
        float amax = mx.reduceLanes(VectorOperators.MAX);
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        scales[so] = d;
        for (int p = 0; p < QK; p += L) FloatVector.fromArray(F, x, xo + p).mul(id).add(M).sub(M).intoArray(codes, co + p);
    }

    /**
     * The m rows of {@code cols} values at x[xOff + i·cols ..] as {@link Q8Rows}: one scale per {@code block} values (32 as
     * {@link #quantize}, whose codes and scales these are; 256 as ggml's block_q8_K), short codes and the sums of each
     * 32-block's codes and of each 8 codes, and if {@code paired} the codes paired for 4-bit layouts ({@link Q8Rows#pairCodes}).
     */
    static Q8Rows shorts(float[] x, int xOff, int m, int cols, int block, boolean paired) {
        if (block % QK != 0 || cols % block != 0) throw new IllegalArgumentException(cols + " columns are not whole blocks of " + block);
        int blocks = cols / QK, scales = cols / block;
        Q8Rows q = new Q8Rows(new short[m * cols], new short[paired ? m * cols : 0], new float[m * scales], new int[m * blocks], new short[m * cols / 8], m, cols, block);
        Parallel.forRange(m, Math.max(1, (16 << 10) / Math.max(1, cols)), (i0, i1) -> {
            float[] codes = new float[block];
            for (int i = i0; i < i1; i++) {
                for (int b = 0; b < scales; b++) {
                    int xo = xOff + i * cols + b * block, o = i * cols + b * block;
                    if (block == QK) block(x, xo, codes, 0, q.scales(), i * scales + b);
                    else scalarBlock(x, xo, block, codes, 0, q.scales(), i * scales + b);
                    for (int j = 0; j < block; j++) q.codes()[o + j] = (short) codes[j];
                }
                for (int e = 0; e < cols / 8; e++) {
                    int sum = 0, o = i * cols + 8 * e;
                    for (int j = 0; j < 8; j++) sum += q.codes()[o + j];
                    q.sums8()[i * cols / 8 + e] = (short) sum;
                    q.sums()[(i * cols + 8 * e) / QK] += sum;
                }
                if (paired) Q8Rows.pairCodes(q.codes(), q.pairedCodes(), i * cols, (i + 1) * cols);
            }
        });
        return q;
    }

    /**
     * The same quantization one value at a time over n values (a multiple of 32) with one scale: a 32-block without 16-lane
     * vectors (also the tests' oracle of the codes), or block_q8_K's 256 values.
     */
    static void scalarBlock(float[] x, int xo, int n, float[] codes, int co, float[] scales, int so) {
        float amax = 0f;
        for (int j = 0; j < n; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        scales[so] = d;
        for (int j = 0; j < n; j++) codes[co + j] = (float) Math.rint(x[xo + j] * id);
    }
}
