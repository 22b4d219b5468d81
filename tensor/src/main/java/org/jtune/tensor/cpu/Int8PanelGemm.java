package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Int8BlockCodec;
import org.jtune.tensor.Parallel;

/**
 * OUT (m, rows) = X (m, cols)·Wᵀ for a weight of 32-blocks of integer codes ({@link Int8BlockCodec}: Q8_0, Q4_0,
 * Q5_0) the way llama.cpp computes it: X is quantized once per product to 8-bit codes per 32-block
 * ({@link Q8Activations}), and OUT[i, r] = Σ_b d_w[r, b]·d_a[i, b]·S[i, r, b] with S the integer dot product of
 * the 32 weight codes and 32 activation codes of block b, summed over b in F32.
 *
 * <p>The integers are carried in F32 lanes: every code is an exact float, a product is at most 128·127 < 2¹⁴ and
 * a block sum at most 32·128·127 < 2²⁰ < 2²⁴, so each FMA of the block sum is exact and S is the exact int32
 * dot product. (The Vector API has no int8 dot-product instruction — x86's vpmaddubsw / vpdpbusd — and its int16
 * and int32 multiply-adds take two instructions per lane group where F32 takes one FMA, so exact F32 integers are
 * the fastest integer arithmetic it offers here.)
 *
 * <p>Tiling as in {@link BlockPanelGemm}: {@link BlockPanelGemm#NR} weight rows at a time, a chunk of at most
 * {@link BlockPanelGemm#KP} columns unpacked into a transposed panel of codes plus a panel of block scales, and
 * {@value #MR} activation rows per micro-kernel call, so each weight block is unpacked once per product and read
 * from L1 for every activation row. Fixed summation order, split over weight-row groups only: the result does
 * not depend on the thread count.
 */
final class Int8PanelGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int NR = BlockPanelGemm.NR, KP = BlockPanelGemm.KP, QK = Int8BlockCodec.BLOCK;
    /** Activation rows per micro-kernel call (4 rows × 2 vectors × (block sum + total) = 16 accumulators). */
    static final int MR = 4;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {
            new float[NR * KP], new float[NR * (KP / QK)], new float[KP], new float[KP / QK], new float[NR]});
    private static final ThreadLocal<float[][]> ACTIVATIONS = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    private Int8PanelGemm() {}

    /** out[outOff + i·rows + r] = Σ_k X[i, k]·W[r, k] through 8-bit activation codes; arguments checked by the caller. */
    static void gemm(Int8BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] x, int xOff, int m,
                     float[] out, int outOff) {
        float[][] act = ACTIVATIONS.get();
        int n = Math.multiplyExact(m, cols);
        if (act[0].length < n) {
            act[0] = new float[n];
            act[1] = new float[n / QK];
        }
        float[] ac = act[0], as = act[1];
        Q8Activations.quantize(x, xOff, m, cols, ac, as);
        gemmCodes(codec, w, offset, rows, cols, ac, as, m, out, outOff);
    }

    /** The product from activation codes ac[i·cols + k] and scales as[i·cols/32 + b]. */
    static void gemmCodes(Int8BlockCodec codec, MemorySegment w, long offset, int rows, int cols, float[] ac, float[] as, int m,
                          float[] out, int outOff) {
        long rowBytes = codec.rowBytes(cols);
        int groups = (rows + NR - 1) / NR, nb = cols / QK;
        Parallel.forRange(groups, 1, (g0, g1) -> {
            float[][] s = SCRATCH.get();
            float[] panel = s[0], pscale = s[1], row = s[2], rscale = s[3], tail = s[4];
            for (int g = g0; g < g1; g++) {
                int r0 = g * NR, nr = Math.min(NR, rows - r0);
                for (int k0 = 0; k0 < cols; k0 += KP) {
                    int kc = Math.min(KP, cols - k0), kb = kc / QK;
                    for (int q = 0; q < NR; q++) {
                        if (q < nr) {
                            codec.codes(w, offset + (r0 + q) * rowBytes, cols, k0, kc, row, 0, rscale, 0);
                            for (int k = 0; k < kc; k++) panel[k * NR + q] = row[k];
                            for (int b = 0; b < kb; b++) pscale[b * NR + q] = rscale[b];
                        } else {
                            for (int k = 0; k < kc; k++) panel[k * NR + q] = 0f;
                            for (int b = 0; b < kb; b++) pscale[b * NR + q] = 0f;
                        }
                    }
                    boolean first = k0 == 0;
                    int i = 0, b0 = k0 / QK;
                    for (; i + MR <= m; i += MR) {
                        kernel4(panel, pscale, kb, ac, i * cols + k0, cols, as, i * nb + b0, nb, out, outOff + i * rows + r0, rows, nr, first, tail);
                    }
                    for (; i < m; i++) kernel1(panel, pscale, kb, ac, i * cols + k0, as, i * nb + b0, out, outOff + i * rows + r0, nr, first, tail);
                }
            }
        });
    }

    /** Four activation rows (codes at ac[ao + j·lda ..], scales at as[so + j·lds ..]) against kb blocks of the panel. */
    private static void kernel4(float[] p, float[] ps, int kb, float[] ac, int ao, int lda, float[] as, int so, int lds,
                                float[] out, int oo, int ldo, int nr, boolean first, float[] tail) {
        FloatVector t0 = FloatVector.zero(F), u0 = t0, t1 = t0, u1 = t0, t2 = t0, u2 = t0, t3 = t0, u3 = t0;
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int b = 0; b < kb; b++) {
            FloatVector s0 = FloatVector.zero(F), z0 = s0, s1 = s0, z1 = s0, s2 = s0, z2 = s0, s3 = s0, z3 = s0;
            for (int k = b * QK, end = k + QK; k < end; k++) {
                FloatVector p0 = FloatVector.fromArray(F, p, k * NR), p1 = FloatVector.fromArray(F, p, k * NR + L);
                FloatVector v = FloatVector.broadcast(F, ac[a0 + k]);
                s0 = p0.fma(v, s0);
                z0 = p1.fma(v, z0);
                v = FloatVector.broadcast(F, ac[a1 + k]);
                s1 = p0.fma(v, s1);
                z1 = p1.fma(v, z1);
                v = FloatVector.broadcast(F, ac[a2 + k]);
                s2 = p0.fma(v, s2);
                z2 = p1.fma(v, z2);
                v = FloatVector.broadcast(F, ac[a3 + k]);
                s3 = p0.fma(v, s3);
                z3 = p1.fma(v, z3);
            }
            FloatVector wa = FloatVector.fromArray(F, ps, b * NR), wb = FloatVector.fromArray(F, ps, b * NR + L);
            float d = as[so + b];
            t0 = s0.fma(wa.mul(d), t0);
            u0 = z0.fma(wb.mul(d), u0);
            d = as[so + lds + b];
            t1 = s1.fma(wa.mul(d), t1);
            u1 = z1.fma(wb.mul(d), u1);
            d = as[so + 2 * lds + b];
            t2 = s2.fma(wa.mul(d), t2);
            u2 = z2.fma(wb.mul(d), u2);
            d = as[so + 3 * lds + b];
            t3 = s3.fma(wa.mul(d), t3);
            u3 = z3.fma(wb.mul(d), u3);
        }
        BlockPanelGemm.put(out, oo, nr, t0, u0, first, tail);
        BlockPanelGemm.put(out, oo + ldo, nr, t1, u1, first, tail);
        BlockPanelGemm.put(out, oo + 2 * ldo, nr, t2, u2, first, tail);
        BlockPanelGemm.put(out, oo + 3 * ldo, nr, t3, u3, first, tail);
    }

    private static void kernel1(float[] p, float[] ps, int kb, float[] ac, int ao, float[] as, int so, float[] out, int oo, int nr,
                                boolean first, float[] tail) {
        FloatVector t = FloatVector.zero(F), u = t;
        for (int b = 0; b < kb; b++) {
            FloatVector s = FloatVector.zero(F), z = s;
            for (int k = b * QK, end = k + QK; k < end; k++) {
                FloatVector v = FloatVector.broadcast(F, ac[ao + k]);
                s = FloatVector.fromArray(F, p, k * NR).fma(v, s);
                z = FloatVector.fromArray(F, p, k * NR + L).fma(v, z);
            }
            float d = as[so + b];
            t = s.fma(FloatVector.fromArray(F, ps, b * NR).mul(d), t);
            u = z.fma(FloatVector.fromArray(F, ps, b * NR + L).mul(d), u);
        }
        BlockPanelGemm.put(out, oo, nr, t, u, first, tail);
    }
}
