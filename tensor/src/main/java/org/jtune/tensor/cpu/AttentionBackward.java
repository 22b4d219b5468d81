package org.jtune.tensor.cpu;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * The backward of {@link Attention} (FlashAttention-2, Dao 2023): the probabilities are recomputed
 * one query row at a time from q, k and the row's logsumexp, so no score matrix is ever materialised:
 * <pre>
 *   p_j = exp(scale·q·k_j − lse),  Δ = dO·O,  dp_j = dO·v_j,  ds_j = p_j (dp_j − Δ)
 *   dq = scale Σ_j ds_j k_j,  dk_j += scale ds_j q,  dv_j += p_j dO
 * </pre>
 * A vector of keys at a time: k and v of one (batch, kv head) are copied transposed (kT[e][j], as the training forward
 * reads k, so p is recomputed from the very scores the forward had: Σ_e q_e·kT[e][j] by FMA in increasing e), the scores
 * and dO·v_j of L keys come out of d FMAs each with no horizontal sum, and dk, dv accumulate transposed for the whole
 * (batch, kv head), dq in L lanes per element summed once per row. Per key and query row this is five FMAs per element
 * and one vector exp per L keys, where dot products and axpys per key spent their time on lane sums, loads, stores and a
 * scalar exp (one thread, the 1.1B shape at 512 positions: 6 → 31 GFLOP/s).
 *
 * <p>Query head h reads kv head h / (Hq/Hkv), so dk and dv sum over the query heads of a group. Work is
 * split by (batch, kv head): every dk, dv row is written by one thread, in a fixed order of (query
 * head, query position), so the result does not depend on the thread count. Visibility follows the
 * mask as in the forward; a row with lse = −∞ (no visible key) passes no gradient. Inputs are read as
 * contiguous F32 (copied first when they are not); dq, dk, dv are zeroed contiguous outputs.
 */
final class AttentionBackward {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final FloatVector IOTA = FloatVector.zero(F).addIndex(1);

    /**
     * One thread's copies of a (batch, kv head): k, v, dk and dv transposed ([e][j], rows {@code stride} floats apart:
     * a power-of-two stride put the 64 rows a key vector touches in two L1 sets), one row's scores and dO·v_j, then its
     * p_j and scale·ds_j, and the batch row's segments numbered 0, 1, .. in order of first appearance, as floats (exact
     * below 2^24 segments), so that a key's visibility is a float compare beside its probabilities.
     */
    private static final class Scratch {
        float[] kt = new float[0], vt = kt, dkt = kt, dvt = kt, p = kt, ds = kt, seg = kt;
        final Map<Integer, Integer> numbers = new HashMap<>();

        Scratch fit(int d, int stride) {
            if (kt.length < d * stride) {
                kt = new float[d * stride];
                vt = new float[d * stride];
                dkt = new float[d * stride];
                dvt = new float[d * stride];
            }
            if (p.length < stride) {
                p = new float[stride];
                ds = new float[stride];
                seg = new float[stride];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private AttentionBackward() {}

    static void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                         Tensor dq, Tensor dk, Tensor dv) {
        int batch = q.size(0), tq = q.size(1), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (q.numel() == 0 || k.numel() == 0) return;
        int group = hq / hkv, sp = (s + L - 1) / L * L, stride = sp + L;
        Tensor qd = Elementwise.dense(q), kd = Elementwise.dense(k), vd = Elementwise.dense(v), od = Elementwise.dense(out);
        Tensor gd = Elementwise.dense(dOut), ld = Elementwise.dense(lse);
        float[] qa = Elementwise.arr(qd), ka = Elementwise.arr(kd), va = Elementwise.arr(vd), oa = Elementwise.arr(od);
        float[] ga = Elementwise.arr(gd), la = Elementwise.arr(ld);
        float[] dqa = Elementwise.arr(dq), dka = Elementwise.arr(dk), dva = Elementwise.arr(dv);
        int qo = (int) qd.offset(), ko = (int) kd.offset(), vo = (int) vd.offset(), oo = (int) od.offset(), go = (int) gd.offset();
        int lo0 = (int) ld.offset(), dqo = (int) dq.offset(), dko = (int) dk.offset(), dvo = (int) dv.offset();
        int[] seg = Attention.segments(mask.segments(), batch, s);
        boolean causal = mask.causal();
        int window = mask.window(), queryOffset = mask.queryOffset();
        Parallel.forRange(batch * hkv, 1, (t0, t1) -> {
            Scratch w = SCRATCH.get().fit(d, stride);
            for (int task = t0; task < t1; task++) {
                int b = task / hkv, g = task % hkv;
                for (int j = 0; j < sp; j++) {
                    int kv = ((b * s + j) * hkv + g) * d;
                    for (int e = 0; e < d; e++) {
                        w.kt[e * stride + j] = j < s ? ka[ko + kv + e] : 0f;
                        w.vt[e * stride + j] = j < s ? va[vo + kv + e] : 0f;
                    }
                }
                if (seg != null) {
                    w.numbers.clear();
                    for (int j = 0; j < sp; j++) w.seg[j] = j < s ? w.numbers.computeIfAbsent(seg[b * s + j], id -> w.numbers.size()) : -1;
                }
                Arrays.fill(w.dkt, 0, d * stride, 0f);
                Arrays.fill(w.dvt, 0, d * stride, 0f);
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int t = 0; t < tq; t++) {
                        int row = ((b * tq + t) * hq + h);
                        float l = la[lo0 + row];
                        if (l == Float.NEGATIVE_INFINITY) continue;
                        int qPos = queryOffset + t;
                        int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                        int hi = causal ? Math.min(s - 1, qPos) : s - 1;
                        float delta = RowKernels.dot(ga, go + row * d, oa, oo + row * d, d);
                        row(w, d, stride, qa, qo + row * d, ga, go + row * d, l, delta, scale, lo, hi,
                                seg == null ? null : w.seg, seg == null ? 0 : w.seg[qPos], dqa, dqo + row * d);
                    }
                }
                for (int j = 0; j < s; j++) {
                    int kv = ((b * s + j) * hkv + g) * d;
                    for (int e = 0; e < d; e++) {
                        dka[dko + kv + e] = w.dkt[e * stride + j];
                        dva[dvo + kv + e] = w.dvt[e * stride + j];
                    }
                }
            }
        });
    }

    /**
     * One query row (q at qa[qb ..], dO at ga[gb ..]) against its visible keys [lo, hi] (and, when seg is given, those of
     * segment segQ): dk and dv added to w.dkt and w.dvt, dq written to dqa[dqb ..]. Three passes over the row's keys: the
     * scores and dO·v_j (the forward's {@link Attention#scores}: four key vectors at a time, so eight FMA chains are in
     * flight), then p and scale·ds a vector of keys at a time, then per element e the updates of dk, dv and the sum for
     * dq, four key vectors at a time into four partial sums.
     */
    private static void row(Scratch w, int d, int stride, float[] qa, int qb, float[] ga, int gb, float l, float delta, float scale,
                            int lo, int hi, float[] seg, float segQ, float[] dqa, int dqb) {
        float[] kt = w.kt, dkt = w.dkt, dvt = w.dvt, p = w.p, ds = w.ds;
        int j0 = lo / L * L;
        Attention.scores(qa, qb, kt, 0, stride, d, j0, hi, p);
        Attention.scores(ga, gb, w.vt, 0, stride, d, j0, hi, ds);
        for (int jb = j0; jb <= hi; jb += L) {
            FloatVector pj = VectorMath.exp(FloatVector.fromArray(F, p, jb).mul(scale).sub(l));
            FloatVector dsj = pj.mul(FloatVector.fromArray(F, ds, jb).sub(delta)).mul(scale);
            if (jb < lo || jb + L - 1 > hi || seg != null) {
                FloatVector j = IOTA.add((float) jb); // (float): with an int, compare takes the long overload, a slow path
                VectorMask<Float> hidden = j.compare(VectorOperators.LT, (float) lo).or(j.compare(VectorOperators.GT, (float) hi));
                if (seg != null) hidden = hidden.or(FloatVector.fromArray(F, seg, jb).compare(VectorOperators.NE, segQ));
                pj = pj.blend(0f, hidden);
                dsj = dsj.blend(0f, hidden);
            }
            pj.intoArray(p, jb);
            dsj.intoArray(ds, jb);
        }
        for (int e = 0; e < d; e++) {
            FloatVector qe = FloatVector.broadcast(F, qa[qb + e]), ge = FloatVector.broadcast(F, ga[gb + e]);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int o = e * stride, jb = j0;
            for (; jb + 4 * L <= hi + 1; jb += 4 * L) {
                FloatVector p0 = FloatVector.fromArray(F, p, jb), p1 = FloatVector.fromArray(F, p, jb + L);
                FloatVector p2 = FloatVector.fromArray(F, p, jb + 2 * L), p3 = FloatVector.fromArray(F, p, jb + 3 * L);
                p0.fma(ge, FloatVector.fromArray(F, dvt, o + jb)).intoArray(dvt, o + jb);
                p1.fma(ge, FloatVector.fromArray(F, dvt, o + jb + L)).intoArray(dvt, o + jb + L);
                p2.fma(ge, FloatVector.fromArray(F, dvt, o + jb + 2 * L)).intoArray(dvt, o + jb + 2 * L);
                p3.fma(ge, FloatVector.fromArray(F, dvt, o + jb + 3 * L)).intoArray(dvt, o + jb + 3 * L);
                FloatVector s0 = FloatVector.fromArray(F, ds, jb), s1 = FloatVector.fromArray(F, ds, jb + L);
                FloatVector s2 = FloatVector.fromArray(F, ds, jb + 2 * L), s3 = FloatVector.fromArray(F, ds, jb + 3 * L);
                s0.fma(qe, FloatVector.fromArray(F, dkt, o + jb)).intoArray(dkt, o + jb);
                s1.fma(qe, FloatVector.fromArray(F, dkt, o + jb + L)).intoArray(dkt, o + jb + L);
                s2.fma(qe, FloatVector.fromArray(F, dkt, o + jb + 2 * L)).intoArray(dkt, o + jb + 2 * L);
                s3.fma(qe, FloatVector.fromArray(F, dkt, o + jb + 3 * L)).intoArray(dkt, o + jb + 3 * L);
                a0 = s0.fma(FloatVector.fromArray(F, kt, o + jb), a0);
                a1 = s1.fma(FloatVector.fromArray(F, kt, o + jb + L), a1);
                a2 = s2.fma(FloatVector.fromArray(F, kt, o + jb + 2 * L), a2);
                a3 = s3.fma(FloatVector.fromArray(F, kt, o + jb + 3 * L), a3);
            }
            for (; jb <= hi; jb += L) {
                FloatVector pj = FloatVector.fromArray(F, p, jb), sj = FloatVector.fromArray(F, ds, jb);
                pj.fma(ge, FloatVector.fromArray(F, dvt, o + jb)).intoArray(dvt, o + jb);
                sj.fma(qe, FloatVector.fromArray(F, dkt, o + jb)).intoArray(dkt, o + jb);
                a0 = sj.fma(FloatVector.fromArray(F, kt, o + jb), a0);
            }
            dqa[dqb + e] = VectorMath.sum(a0.add(a1).add(a2.add(a3)));
        }
    }
}
