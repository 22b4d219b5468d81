package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scaled-dot-product attention against a double reference that applies the mask rules directly
 * (causal, sliding window, query offset of a KV cache, packed segments) for GQA ratios 1, 2 and 4,
 * head dims 8 and 64, random layouts and half-precision inputs, and rows with no visible key.
 */
class AttentionConformanceTest {
    /** The reference; fills tol with the per-element bound. */
    static Ref reference(Ref q, Ref k, Ref v, AttentionMask mask, Ref seg, double scale, double[] tol) {
        int b = q.shape()[0], t = q.shape()[1], hq = q.shape()[2], d = q.shape()[3], s = k.shape()[1], hkv = k.shape()[2];
        Ref out = Ref.zeros(b, t, hq, d);
        double[] score = new double[s];
        for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++) for (int h = 0; h < hq; h++) {
            int qPos = mask.queryOffset() + ti, kvh = h / (hq / hkv);
            double max = Double.NEGATIVE_INFINITY, maxAbs = 0;
            boolean[] visible = new boolean[s];
            for (int j = 0; j < s; j++) {
                visible[j] = (!mask.causal() || j <= qPos) && (mask.window() <= 0 || qPos - j < mask.window())
                        && (seg == null || seg.at(bi, j) == seg.at(bi, qPos));
                if (!visible[j]) continue;
                double dot = 0;
                for (int e = 0; e < d; e++) dot += q.at(bi, ti, h, e) * k.at(bi, j, kvh, e);
                score[j] = scale * dot;
                max = Math.max(max, score[j]);
                maxAbs = Math.max(maxAbs, Math.abs(score[j]));
            }
            double sum = 0;
            int n = 0;
            for (int j = 0; j < s; j++) {
                if (visible[j]) {
                    sum += Math.exp(score[j] - max);
                    n++;
                }
            }
            for (int e = 0; e < d; e++) {
                double acc = 0, vmax = 0;
                for (int j = 0; j < s; j++) {
                    if (!visible[j]) continue;
                    acc += Math.exp(score[j] - max) / sum * v.at(bi, j, kvh, e);
                    vmax = Math.max(vmax, Math.abs(v.at(bi, j, kvh, e)));
                }
                int f = out.flat(bi, ti, h, e);
                out.v()[f] = acc; // 0 when no key is visible
                // Scores err by ~D·u·|s|, which exp turns into relative error of p; the softmax sum and the
                // weighted sum of n values add (n+8)·u: bound (D + n + 16)·u·(1 + max|s|)·max|v|.
                tol[f] = (d + n + 16) * U * (1 + 2 * maxAbs) * vmax + 1e-30;
            }
        }
        return out;
    }

    /** Segment ids of packed sequences: non-decreasing, random lengths. */
    static Tensor packedSegments(Rng rng, int b, int s) {
        int[] a = new int[b * s];
        for (int bi = 0; bi < b; bi++) {
            int id = 0;
            for (int j = 0; j < s; j++) {
                if (j > 0 && rng.nextInt(5) == 0) id++;
                a[bi * s + j] = id;
            }
        }
        return Tensor.ofInts(a, b, s);
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void attentionMatchesReference(Backend be) {
        Rng rng = new Rng(51);
        int trial = 0;
        for (int ratio : new int[] {1, 2, 4}) {
            for (int d : new int[] {8, 64}) {
                for (int variant = 0; variant < 7; variant++, trial++) {
                    int b = 1 + rng.nextInt(2), hkv = 1 + rng.nextInt(2), hq = hkv * ratio;
                    int s = 1 + rng.nextInt(40), t;
                    AttentionMask mask;
                    Tensor seg = null;
                    switch (variant) {
                        case 0 -> { t = s; mask = AttentionMask.causalMask(); } // prefill
                        case 1 -> { t = 1; mask = AttentionMask.causalMask().withQueryOffset(s - 1); } // decode with a KV cache
                        case 2 -> { t = Math.max(1, s / 3); mask = AttentionMask.causalMask().withQueryOffset(s - t).withWindow(1 + rng.nextInt(6)); }
                        case 3 -> { t = s; seg = packedSegments(rng, b, s); mask = AttentionMask.causalMask().withSegments(seg); }
                        case 4 -> { t = 1 + rng.nextInt(9); mask = new AttentionMask(false, 0, 0, null); } // bidirectional
                        case 5 -> { t = 3; mask = new AttentionMask(false, 2, s, null); } // queries past every key: rows 1.. see nothing
                        default -> { // a longer windowed prefill: scores through the transposed keys, windows starting mid-vector
                            s = 17 + rng.nextInt(60);
                            t = s;
                            mask = AttentionMask.causalMask().withWindow(1 + rng.nextInt(24));
                        }
                    }
                    Tensor q = Layouts.any(rng, NORMAL, true, b, t, hq, d);
                    Tensor k = Layouts.any(rng, NORMAL, true, b, s, hkv, d), v = Layouts.any(rng, NORMAL, true, b, s, hkv, d);
                    float scale = trial % 2 == 0 ? 0f : 0.3f;
                    AttentionMask m = mask;
                    Tensor got = Ops.using(be, () -> Ops.attention(q, k, v, m, scale));
                    double[] tol = new double[b * t * hq * d];
                    Ref want = reference(Ref.of(q), Ref.of(k), Ref.of(v), mask, seg == null ? null : Ref.of(seg),
                            scale > 0 ? scale : 1 / Math.sqrt(d), tol);
                    Expect.close("attention (ratio " + ratio + ", variant " + variant + ", " + mask + ") q " + describe(q)
                            + " k " + describe(k), got, want, tol);
                }
            }
        }
    }
}
