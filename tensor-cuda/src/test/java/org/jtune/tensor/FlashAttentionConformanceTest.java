package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtune.tensor.cuda.CudaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend's tensor-core attention (flash.cu, taken under mixed precision for head dims 64 and 128) against
 * the double reference of {@link AttentionBackwardConformanceTest}: forward out and lse, backward dq, dk, dv,
 * for GQA ratios 1, 2, 4, lengths that end inside and on the 64-row blocks and the 32/64-row tiles, causal
 * prefill, a KV-cache query offset, a sliding window, packed segments, bidirectional rows and rows that see
 * no key, on random layouts (permuted, narrowed, stepped, expanded: the backend densifies and aligns them).
 *
 * <p>Tolerance: the inputs are drawn exactly representable in BF16, so their rounding on entry is exact;
 * what BF16 adds is the rounding (unit roundoff u = 2⁻⁸) of the probabilities P before P·V and Pᵀ·dOut and of
 * the score gradients dS before dS·K and dSᵀ·Q. Each rounding moves one term by at most u·|term|, so the
 * bound adds 2·u·Σ|terms| of the affected sums (out: Σ p·|v|; dv: Σ p·|dOut|; dq: scale·Σ |dS|·|k|; dk:
 * scale·Σ |dS|·|q|) to the F32 bound of the reference, which covers the F32 accumulation, exp and lse.
 * Without a GPU every case is skipped with the reason (the module's conformance run is against cuda:0 only).
 */
class FlashAttentionConformanceTest {
    static final double UB = 0x1p-8;
    static final Layouts.Sample BF16_NORMAL = rng -> Float.intBitsToFloat(bf16Bits((float) rng.nextGaussian()));

    /** Round to nearest even at 8 significant bits (finite inputs). */
    static int bf16Bits(float f) {
        int u = Float.floatToRawIntBits(f);
        return (u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000;
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void tensorCoreAttentionMatchesReference(Backend be) {
        assertTrue(be instanceof CudaBackend, "this suite is for the CUDA backend, got " + be);
        CudaBackend cuda = (CudaBackend) be;
        cuda.mixedPrecisionGemm(true);
        try {
            run(be);
        } finally {
            cuda.mixedPrecisionGemm(false);
        }
    }

    private static void run(Backend be) {
        Rng rng = new Rng(2026);
        int trial = 0;
        for (int d : new int[] {64, 128}) for (int ratio : new int[] {1, 2, 4}) {
            int[] lengths = d == 64 ? new int[] {2, 17, 64, 65, 127, 150} : new int[] {17, 65, 150};
            for (int variant = 0; variant < 6; variant++) {
                for (int len : lengths) {
                    trial++;
                    int b = 1 + rng.nextInt(2), hkv = 1 + rng.nextInt(2), hq = hkv * ratio, s = len, t;
                    AttentionMask mask;
                    Tensor seg = null;
                    switch (variant) {
                        case 0 -> { t = s; mask = AttentionMask.causalMask(); }
                        case 1 -> { t = Math.max(2, s / 2); mask = AttentionMask.causalMask().withQueryOffset(s - t); }
                        case 2 -> { t = Math.max(2, s / 3); mask = AttentionMask.causalMask().withQueryOffset(s - t).withWindow(1 + rng.nextInt(40)); }
                        case 3 -> { t = s; seg = AttentionConformanceTest.packedSegments(rng, b, s); mask = AttentionMask.causalMask().withSegments(seg); }
                        case 4 -> { t = 2 + rng.nextInt(70); mask = new AttentionMask(false, 0, 0, null); }
                        default -> { t = 3 + rng.nextInt(5); mask = new AttentionMask(false, 2, s, null); } // rows 1.. see no key
                    }
                    Tensor q = Layouts.any(rng, BF16_NORMAL, false, b, t, hq, d);
                    Tensor k = Layouts.any(rng, BF16_NORMAL, false, b, s, hkv, d), v = Layouts.any(rng, BF16_NORMAL, false, b, s, hkv, d);
                    Tensor dO = Layouts.any(rng, BF16_NORMAL, false, b, t, hq, d);
                    float scale = trial % 2 == 0 ? 0f : 0.3f;
                    double sc = scale > 0 ? scale : 1 / Math.sqrt(d);
                    AttentionMask m = mask;
                    Tensor[] ol = Ops.using(be, () -> Ops.attentionWithLse(q, k, v, m, scale, true));
                    Tensor[] grads = Ops.using(be, () -> BackwardOps.attention(q, k, v, ol[0], ol[1], dO, m, scale));
                    Ref rq = Ref.of(q), rk = Ref.of(k), rv = Ref.of(v), rdO = Ref.of(dO), rOut = Ref.of(ol[0]), rSeg = seg == null ? null : Ref.of(seg);
                    AttentionBackwardConformanceTest.Want w = AttentionBackwardConformanceTest.reference(rq, rk, rv, rOut, rdO, mask, rSeg, sc);
                    Bf16Bounds x = bf16Bounds(rq, rk, rv, rOut, rdO, mask, rSeg, sc, w.lse());
                    String what = "(D " + d + ", ratio " + ratio + ", variant " + variant + ", T " + t + ", S " + s + ", " + mask + ") q " + describe(q)
                            + " k " + describe(k);
                    Expect.close("flash out " + what, ol[0], x.out(), x.outTol());
                    Expect.close("flash lse " + what, ol[1], w.lse(), w.lseTol());
                    Expect.close("flash dq " + what, grads[0], w.dq(), add(w.dqTol(), x.dqTol()));
                    Expect.close("flash dk " + what, grads[1], w.dk(), add(w.dkTol(), x.dkTol()));
                    Expect.close("flash dv " + what, grads[2], w.dv(), add(w.dvTol(), x.dvTol()));
                }
            }
        }
    }

    static double[] add(double[] a, double[] b) {
        double[] r = a.clone();
        for (int i = 0; i < r.length; i++) r[i] += b[i];
        return r;
    }

    /** The reference forward output with its whole bound, and the BF16 terms of the gradients' bounds. */
    record Bf16Bounds(Ref out, double[] outTol, double[] dqTol, double[] dkTol, double[] dvTol) {}

    static Bf16Bounds bf16Bounds(Ref q, Ref k, Ref v, Ref out, Ref dO, AttentionMask mask, Ref seg, double scale, Ref lse) {
        int b = q.shape()[0], t = q.shape()[1], hq = q.shape()[2], d = q.shape()[3], s = k.shape()[1], hkv = k.shape()[2];
        int group = hq / hkv;
        Ref o = Ref.zeros(b, t, hq, d);
        double[] outTol = new double[o.numel()], dqTol = new double[o.numel()], dkTol = new double[b * s * hkv * d],
                dvTol = new double[b * s * hkv * d];
        for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++) for (int h = 0; h < hq; h++) {
            int pos = mask.queryOffset() + ti, g = h / group;
            double l = lse.at(bi, ti, h);
            if (l == Double.NEGATIVE_INFINITY) continue;
            double delta = 0, maxAbs = 0;
            for (int e = 0; e < d; e++) delta += dO.at(bi, ti, h, e) * out.at(bi, ti, h, e);
            int n = 0;
            double[] score = new double[s];
            boolean[] vis = new boolean[s];
            for (int j = 0; j < s; j++) {
                vis[j] = (!mask.causal() || j <= pos) && (mask.window() <= 0 || pos - j < mask.window())
                        && (seg == null || seg.at(bi, j) == seg.at(bi, pos));
                if (!vis[j]) continue;
                double dot = 0;
                for (int e = 0; e < d; e++) dot += q.at(bi, ti, h, e) * k.at(bi, j, g, e);
                score[j] = scale * dot;
                maxAbs = Math.max(maxAbs, Math.abs(score[j]));
                n++;
            }
            double e0 = (d + n + 16) * U * (1 + 2 * maxAbs); // the F32 relative error of a probability
            for (int j = 0; j < s; j++) {
                if (!vis[j]) continue;
                double p = Math.exp(score[j] - l), dp = 0;
                for (int e = 0; e < d; e++) dp += dO.at(bi, ti, h, e) * v.at(bi, j, g, e);
                double ds = Math.abs(p * (dp - delta));
                int kv = (bi * s + j) * hkv + g;
                for (int e = 0; e < d; e++) {
                    int qi = o.flat(bi, ti, h, e);
                    double ve = v.at(bi, j, g, e);
                    o.v()[qi] += p * ve;
                    outTol[qi] += (2 * UB + 2 * e0 + (n + 4) * U) * p * Math.abs(ve);
                    dqTol[qi] += 2 * UB * scale * ds * Math.abs(k.at(bi, j, g, e));
                    dkTol[kv * d + e] += 2 * UB * scale * ds * Math.abs(q.at(bi, ti, h, e));
                    dvTol[kv * d + e] += 2 * UB * p * Math.abs(dO.at(bi, ti, h, e));
                }
            }
        }
        for (int i = 0; i < outTol.length; i++) outTol[i] += 1e-30;
        return new Bf16Bounds(o, outTol, dqTol, dkTol, dvTol);
    }
}
