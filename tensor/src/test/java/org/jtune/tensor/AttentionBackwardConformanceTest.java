package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training side of attention: the forward's per-row logsumexp and the backward (dq, dk, dv)
 * against a double reference that builds the probabilities from the mask rules directly, for GQA
 * ratios 1, 2 and 4, causal prefill, a KV-cache query offset, a sliding window, packed segments,
 * bidirectional rows and rows that see no key, on random layouts and half-precision inputs.
 *
 * <p>Tolerance: with s_j = scale·q·k_j, a probability p_j = e^{s_j − lse} carries the relative error
 * E = (D + n + 16)·u·(1 + 2·max|s|) of the forward test (the score's dot product, the logsumexp, the
 * exp). The reference propagates first-order error bounds through the backward's formulas —
 * dp_j = dO·v_j and Δ = dO·O are D-term dot products ((D+2)·u·Σ|terms|, and O itself errs by
 * E·max|v|), ds_j = p_j(dp_j − Δ), then sums over keys (dq) or over the query rows of a kv head (dk,
 * dv) with (count+2)·u on their terms — and allows twice the result.
 */
class AttentionBackwardConformanceTest {
    /** Reference lse (with tolerance), dq, dk, dv (with tolerances) for one call. */
    record Want(Ref lse, double[] lseTol, Ref dq, double[] dqTol, Ref dk, double[] dkTol, Ref dv, double[] dvTol) {}

    static Want reference(Ref q, Ref k, Ref v, Ref out, Ref dO, AttentionMask mask, Ref seg, double scale) {
        int b = q.shape()[0], t = q.shape()[1], hq = q.shape()[2], d = q.shape()[3], s = k.shape()[1], hkv = k.shape()[2];
        int group = hq / hkv;
        Ref lse = Ref.zeros(b, t, hq), dq = Ref.zeros(b, t, hq, d), dk = Ref.zeros(b, s, hkv, d), dv = Ref.zeros(b, s, hkv, d);
        double[] lseTol = new double[lse.numel()], dqTol = new double[dq.numel()], dkTol = new double[dk.numel()], dvTol = new double[dv.numel()];
        int[] kvCount = new int[b * s * hkv]; // query rows that reach each kv row
        double[][] dkAbs = new double[b * s * hkv][d], dvAbs = new double[b * s * hkv][d];
        double[][] dkErr = new double[b * s * hkv][d], dvErr = new double[b * s * hkv][d];
        for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++) for (int h = 0; h < hq; h++) {
            int qPos = mask.queryOffset() + ti, g = h / group;
            boolean[] visible = new boolean[s];
            double[] score = new double[s];
            double max = Double.NEGATIVE_INFINITY, maxAbs = 0;
            int n = 0;
            for (int j = 0; j < s; j++) {
                visible[j] = (!mask.causal() || j <= qPos) && (mask.window() <= 0 || qPos - j < mask.window())
                        && (seg == null || seg.at(bi, j) == seg.at(bi, qPos));
                if (!visible[j]) continue;
                double dot = 0;
                for (int e = 0; e < d; e++) dot += q.at(bi, ti, h, e) * k.at(bi, j, g, e);
                score[j] = scale * dot;
                max = Math.max(max, score[j]);
                maxAbs = Math.max(maxAbs, Math.abs(score[j]));
                n++;
            }
            int row = lse.flat(bi, ti, h);
            if (n == 0) {
                lse.v()[row] = Double.NEGATIVE_INFINITY; // dq stays 0, nothing reaches k or v
                continue;
            }
            double sum = 0;
            for (int j = 0; j < s; j++) if (visible[j]) sum += Math.exp(score[j] - max);
            double l = max + Math.log(sum);
            lse.v()[row] = l;
            lseTol[row] = (d + n + 16) * U * (1 + 2 * maxAbs);
            double e0 = (d + n + 16) * U * (1 + 2 * maxAbs); // relative error of a probability
            double vmax = 0;
            for (int j = 0; j < s; j++) {
                if (!visible[j]) continue;
                for (int e = 0; e < d; e++) vmax = Math.max(vmax, Math.abs(v.at(bi, j, g, e)));
            }
            double delta = 0, deltaErr = 0;
            for (int e = 0; e < d; e++) {
                delta += dO.at(bi, ti, h, e) * out.at(bi, ti, h, e);
                deltaErr += (d + 2) * U * Math.abs(dO.at(bi, ti, h, e) * out.at(bi, ti, h, e)) + Math.abs(dO.at(bi, ti, h, e)) * e0 * vmax;
            }
            double[] dqAbs = new double[d], dqErr = new double[d];
            for (int j = 0; j < s; j++) {
                if (!visible[j]) continue;
                double p = Math.exp(score[j] - l), dp = 0, dpErr = 0;
                for (int e = 0; e < d; e++) {
                    dp += dO.at(bi, ti, h, e) * v.at(bi, j, g, e);
                    dpErr += (d + 2) * U * Math.abs(dO.at(bi, ti, h, e) * v.at(bi, j, g, e));
                }
                double ds = p * (dp - delta);
                double dsErr = e0 * p * Math.abs(dp - delta) + p * (dpErr + deltaErr) + 2 * U * Math.abs(ds);
                int kv = (bi * s + j) * hkv + g;
                kvCount[kv]++;
                for (int e = 0; e < d; e++) {
                    double kj = k.at(bi, j, g, e), qe = q.at(bi, ti, h, e), de = dO.at(bi, ti, h, e);
                    dq.v()[dq.flat(bi, ti, h, e)] += scale * ds * kj;
                    dqAbs[e] += Math.abs(scale * ds * kj);
                    dqErr[e] += scale * dsErr * Math.abs(kj);
                    dk.v()[dk.flat(bi, j, g, e)] += scale * ds * qe;
                    dkAbs[kv][e] += Math.abs(scale * ds * qe);
                    dkErr[kv][e] += scale * dsErr * Math.abs(qe);
                    dv.v()[dv.flat(bi, j, g, e)] += p * de;
                    dvAbs[kv][e] += Math.abs(p * de);
                    dvErr[kv][e] += e0 * p * Math.abs(de);
                }
            }
            for (int e = 0; e < d; e++) dqTol[dq.flat(bi, ti, h, e)] = 2 * (dqErr[e] + (n + 4) * U * dqAbs[e]) + 1e-30;
        }
        for (int kv = 0; kv < kvCount.length; kv++) {
            for (int e = 0; e < d; e++) {
                dkTol[kv * d + e] = 2 * (dkErr[kv][e] + (kvCount[kv] + 4) * U * dkAbs[kv][e]) + 1e-30;
                dvTol[kv * d + e] = 2 * (dvErr[kv][e] + (kvCount[kv] + 4) * U * dvAbs[kv][e]) + 1e-30;
            }
        }
        return new Want(lse, lseTol, dq, dqTol, dk, dkTol, dv, dvTol);
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void logsumexpAndBackwardMatchReference(Backend be) {
        Rng rng = new Rng(101);
        int trial = 0;
        for (int ratio : new int[] {1, 2, 4}) {
            for (int d : new int[] {8, 33, 64}) {
                for (int variant = 0; variant < 6; variant++, trial++) {
                    int b = 1 + rng.nextInt(2), hkv = 1 + rng.nextInt(2), hq = hkv * ratio;
                    int s = 1 + rng.nextInt(30), t;
                    AttentionMask mask;
                    Tensor seg = null;
                    switch (variant) {
                        case 0 -> { t = s; mask = AttentionMask.causalMask(); }
                        case 1 -> { t = 1; mask = AttentionMask.causalMask().withQueryOffset(s - 1); }
                        case 2 -> { t = Math.max(1, s / 3); mask = AttentionMask.causalMask().withQueryOffset(s - t).withWindow(1 + rng.nextInt(6)); }
                        case 3 -> { t = s; seg = AttentionConformanceTest.packedSegments(rng, b, s); mask = AttentionMask.causalMask().withSegments(seg); }
                        case 4 -> { t = 1 + rng.nextInt(9); mask = new AttentionMask(false, 0, 0, null); }
                        default -> { t = 3; mask = new AttentionMask(false, 2, s, null); } // rows 1.. see no key
                    }
                    Tensor q = Layouts.any(rng, NORMAL, true, b, t, hq, d);
                    Tensor k = Layouts.any(rng, NORMAL, true, b, s, hkv, d), v = Layouts.any(rng, NORMAL, true, b, s, hkv, d);
                    Tensor dO = Layouts.any(rng, NORMAL, true, b, t, hq, d);
                    float scale = trial % 2 == 0 ? 0f : 0.3f;
                    AttentionMask m = mask;
                    Tensor[] ol = Ops.using(be, () -> Ops.attentionWithLse(q, k, v, m, scale, true));
                    Tensor[] grads = Ops.using(be, () -> BackwardOps.attention(q, k, v, ol[0], ol[1], dO, m, scale));
                    Want w = reference(Ref.of(q), Ref.of(k), Ref.of(v), Ref.of(ol[0]), Ref.of(dO), mask, seg == null ? null : Ref.of(seg),
                            scale > 0 ? scale : 1 / Math.sqrt(d));
                    String what = "(ratio " + ratio + ", D " + d + ", variant " + variant + ", " + mask + ") q " + describe(q) + " k " + describe(k);
                    Expect.close("attention lse " + what, ol[1], w.lse(), w.lseTol());
                    Expect.close("attention dq " + what, grads[0], w.dq(), w.dqTol());
                    Expect.close("attention dk " + what, grads[1], w.dk(), w.dkTol());
                    Expect.close("attention dv " + what, grads[2], w.dv(), w.dvTol());
                }
            }
        }
    }
}
