package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fused attention: forward and dq, dk, dv against a double reference with explicit masking, for GQA
 * ratios 1, 2, 4, sliding windows, query offsets (a chunk after a KV cache), packed segments,
 * head sizes below and above the vector width, and q, k, v given as non-contiguous (B, H, T, D)ᵀ views.
 */
class AttentionGradTest {
    static double[] reference(double[] q, double[] k, double[] v, int b, int t, int s, int hq, int hkv, int d,
                              AttentionMask mask, int[] seg, double scale) {
        double[] out = new double[b * t * hq * d];
        for (int bi = 0; bi < b; bi++) for (int ti = 0; ti < t; ti++) for (int h = 0; h < hq; h++) {
            int g = h / (hq / hkv), qPos = mask.queryOffset() + ti;
            double[] sc = new double[s];
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < s; j++) {
                boolean ok = mask.allows(qPos, j) && (seg == null || seg[bi * s + j] == seg[bi * s + qPos]);
                if (!ok) {
                    sc[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int i = 0; i < d; i++) dot += q[((bi * t + ti) * hq + h) * d + i] * k[((bi * s + j) * hkv + g) * d + i];
                sc[j] = scale * dot;
                m = Math.max(m, sc[j]);
            }
            if (m == Double.NEGATIVE_INFINITY) continue;
            double z = 0;
            for (int j = 0; j < s; j++) z += sc[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sc[j] - m);
            for (int j = 0; j < s; j++) {
                if (sc[j] == Double.NEGATIVE_INFINITY) continue;
                double p = Math.exp(sc[j] - m) / z;
                for (int i = 0; i < d; i++) out[((bi * t + ti) * hq + h) * d + i] += p * v[((bi * s + j) * hkv + g) * d + i];
            }
        }
        return out;
    }

    /** (B, H, L, D) data seen through transpose(1, 2) as (B, L, H, D): the layout a model produces. */
    private static Tensor headsFirst(Rng rng, int b, int l, int h, int d) {
        return Tensor.randn(rng, 1f, b, h, l, d).transpose(1, 2);
    }

    @ParameterizedTest(name = "B={0} T={1} S={2} Hq={3} Hkv={4} D={5} causal={6} window={7} offset={8} segments={9}")
    @CsvSource({
            "2, 7, 7, 4, 4, 5, true, 0, 0, false",
            "2, 7, 7, 4, 2, 5, true, 0, 0, false",
            "1, 9, 9, 4, 1, 19, true, 0, 0, false",
            "2, 8, 8, 4, 2, 6, true, 3, 0, false",
            "1, 3, 9, 2, 1, 7, true, 0, 6, false",
            "1, 4, 10, 4, 2, 5, true, 4, 6, false",
            "2, 9, 9, 2, 1, 5, true, 0, 0, true",
            "2, 9, 9, 4, 2, 17, true, 3, 0, true",
            "1, 5, 6, 2, 2, 4, false, 0, 0, false",
    })
    void gradientsMatchTheReference(int b, int t, int s, int hq, int hkv, int d, boolean causal, int window, int offset, boolean segments) {
        Rng rng = new Rng(b * 1000 + t * 100 + hq * 10 + hkv + d + window + offset);
        int[] seg = null;
        AttentionMask mask = new AttentionMask(causal, window, offset, null);
        if (segments) {
            seg = new int[b * s];
            for (int bi = 0; bi < b; bi++) for (int j = 0; j < s; j++) seg[bi * s + j] = j < 3 + bi ? 0 : j < 6 ? 1 : 2;
            mask = mask.withSegments(Tensor.ofInts(seg, b, s));
        }
        Tensor q = headsFirst(rng, b, t, hq, d), k = headsFirst(rng, b, s, hkv, d), v = headsFirst(rng, b, s, hkv, d);
        assertFalse(q.isContiguous());
        AttentionMask m = mask;
        int[] sg = seg;
        double scale = 1 / Math.sqrt(d);
        Refs.check(in -> Attention.apply(in[0], in[1], in[2], m), in -> reference(in[0], in[1], in[2], b, t, s, hq, hkv, d, m, sg, scale),
                Variable.parameter(q), Variable.parameter(k), Variable.parameter(v));
        // a custom scale, and only some inputs requiring grad
        Variable vq = Variable.constant(q), vk = Variable.parameter(k), vv = Variable.constant(v);
        Refs.check(in -> Attention.apply(in[0], in[1], in[2], m, 0.7f), in -> reference(in[0], in[1], in[2], b, t, s, hq, hkv, d, m, sg, 0.7),
                vq, vk, vv);
        assertNull(vq.grad());
        assertNotNull(vk.grad());
    }
}
