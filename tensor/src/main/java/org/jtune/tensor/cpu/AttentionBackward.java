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
 * Four query rows and a vector of keys at a time: k and v of one (batch, kv head) are copied transposed (kT[e][j], as
 * the training forward reads k, so p is recomputed from the very scores the forward had: Σ_e q_e·kT[e][j] by FMA in
 * increasing e), and dk, dv accumulate transposed for the whole (batch, kv head). For {@link #ROWS} query rows at a time
 * (in order of head, then position) the scores and dO·v_j of all their keys come out of register tiles of four rows
 * × two key vectors ({@link FourHeadAttention#scores}: eight FMA chains in flight, no horizontal sums), p and scale·ds
 * a vector at a time with one vector exp, then per element e the four rows' updates of dk and dv and their sums for dq,
 * a key vector at a time. Each pass over k, v, dk and dv (in L2 at 512 positions) serves four rows: one row at a time,
 * the passes were bound by L2 bandwidth; dot products and axpys per key spent their time on lane sums and a scalar exp.
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
    /** Query rows per pass over the keys (as many as {@link FourHeadAttention} takes heads). */
    static final int ROWS = FourHeadAttention.HEADS;

    /**
     * One thread's working set for a (batch, kv head): k, v, dk and dv transposed ([e][j], rows {@code stride} floats apart:
     * a power-of-two stride put the 64 rows a key vector touches in two L1 sets); the current four rows' q and dO (zeros
     * in an empty slot), their scores then p, their dO·v_j then scale·ds, logsumexp, Δ, visible keys [lo, hi], segment and
     * output row (−1: empty); and the batch row's segments numbered 0, 1, .. in order of first appearance, as floats
     * (exact below 2^24 segments), so that a key's visibility is a float compare beside its probabilities.
     */
    private static final class Scratch {
        float[] kt = new float[0], vt = kt, dkt = kt, dvt = kt, q = kt, g = kt, p = kt, ds = kt, seg = kt;
        final float[] lse = new float[ROWS], delta = new float[ROWS], segQ = new float[ROWS];
        final int[] lo = new int[ROWS], hi = new int[ROWS], row = new int[ROWS];
        int[] offsets = new int[0];
        int filled;
        final Map<Integer, Integer> numbers = new HashMap<>();

        Scratch fit(int d, int stride) {
            if (kt.length < d * stride) {
                kt = new float[d * stride];
                vt = new float[d * stride];
                dkt = new float[d * stride];
                dvt = new float[d * stride];
            }
            if (p.length < ROWS * stride) {
                p = new float[ROWS * stride];
                ds = new float[ROWS * stride];
                seg = new float[stride];
            }
            if (q.length < ROWS * d) {
                q = new float[ROWS * d];
                g = new float[ROWS * d];
                offsets = new int[d];
            }
            return this;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /**
     * Floats per transposed copy above which a thread drops its scratch after the call instead of keeping it (2048
     * positions of a 128-wide kv head fit; a long-context step's copies are not held by every pool thread afterwards).
     */
    private static final int RETAINED_FLOATS = 1 << 19;

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
                w.filled = 0;
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int t = 0; t < tq; t++) {
                        int row = ((b * tq + t) * hq + h);
                        float l = la[lo0 + row];
                        if (l == Float.NEGATIVE_INFINITY) continue; // no visible key: dq stays zero, nothing reaches k or v
                        int qPos = queryOffset + t, r = w.filled++;
                        w.lo[r] = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                        w.hi[r] = causal ? Math.min(s - 1, qPos) : s - 1;
                        w.lse[r] = l;
                        w.delta[r] = RowKernels.dot(ga, go + row * d, oa, oo + row * d, d);
                        w.segQ[r] = seg == null ? 0 : w.seg[qPos];
                        w.row[r] = row;
                        System.arraycopy(qa, qo + row * d, w.q, r * d, d);
                        System.arraycopy(ga, go + row * d, w.g, r * d, d);
                        if (w.filled == ROWS) rows(w, d, stride, scale, seg != null, dqa, dqo);
                    }
                }
                if (w.filled > 0) rows(w, d, stride, scale, seg != null, dqa, dqo);
                for (int j = 0; j < s; j++) {
                    int kv = ((b * s + j) * hkv + g) * d;
                    for (int e = 0; e < d; e++) {
                        dka[dko + kv + e] = w.dkt[e * stride + j];
                        dva[dvo + kv + e] = w.dvt[e * stride + j];
                    }
                }
            }
            if (w.kt.length > RETAINED_FLOATS) SCRATCH.remove();
        });
    }

    /**
     * The w.filled (1..4) rows gathered in w (the empty slots see no key): dk and dv added to w.dkt and w.dvt, each row's
     * dq written to dqa[dqo + row·d ..].
     */
    private static void rows(Scratch w, int d, int stride, float scale, boolean segments, float[] dqa, int dqo) {
        for (int r = w.filled; r < ROWS; r++) {
            Arrays.fill(w.q, r * d, (r + 1) * d, 0f);
            Arrays.fill(w.g, r * d, (r + 1) * d, 0f);
            w.lo[r] = Integer.MAX_VALUE;
            w.hi[r] = -1;
            w.row[r] = -1;
        }
        int lo = Integer.MAX_VALUE, hi = -1;
        for (int r = 0; r < w.filled; r++) {
            lo = Math.min(lo, w.lo[r]);
            hi = Math.max(hi, w.hi[r]);
        }
        w.filled = 0;
        if (lo > hi) return;
        int j0 = lo / L * L;
        FourHeadAttention.scores(w.q, d, w.kt, 0, stride, j0, hi, w.p, w.offsets);  // the scores, as the forward computed them
        FourHeadAttention.scores(w.g, d, w.vt, 0, stride, j0, hi, w.ds, w.offsets); // dO·v_j
        for (int r = 0; r < ROWS; r++) {
            float l = w.lse[r], delta = w.delta[r];
            int rlo = w.lo[r], rhi = w.hi[r];
            for (int jb = j0; jb <= hi; jb += L) {
                int o = r * stride + jb;
                FloatVector pj = VectorMath.exp(FloatVector.fromArray(F, w.p, o).mul(scale).sub(l));
                FloatVector dsj = pj.mul(FloatVector.fromArray(F, w.ds, o).sub(delta)).mul(scale);
                if (jb < rlo || jb + L - 1 > rhi || segments) {
                    FloatVector j = IOTA.add((float) jb); // (float): with an int, compare takes the long overload, a slow path
                    VectorMask<Float> hidden = j.compare(VectorOperators.LT, (float) rlo).or(j.compare(VectorOperators.GT, (float) rhi));
                    if (segments) hidden = hidden.or(FloatVector.fromArray(F, w.seg, jb).compare(VectorOperators.NE, w.segQ[r]));
                    pj = pj.blend(0f, hidden);
                    dsj = dsj.blend(0f, hidden);
                }
                pj.intoArray(w.p, o);
                dsj.intoArray(w.ds, o);
            }
        }
        updates(w, d, stride, j0, hi, dqa, dqo);
    }

    /**
     * Per element e: dv[j][e] += Σ_r p_rj·dO_r[e] and dk[j][e] += Σ_r ds_rj·q_r[e] (rows in order) over the keys
     * [j0, hi], and dq_r[e] = Σ_j ds_rj·k_j[e] summed a key vector at a time in lanes, then over the lanes.
     */
    private static void updates(Scratch w, int d, int stride, int j0, int hi, float[] dqa, int dqo) {
        float[] p = w.p, ds = w.ds, kt = w.kt, dkt = w.dkt, dvt = w.dvt, q = w.q, g = w.g;
        for (int e = 0; e < d; e++) {
            FloatVector g0 = FloatVector.broadcast(F, g[e]), g1 = FloatVector.broadcast(F, g[d + e]);
            FloatVector g2 = FloatVector.broadcast(F, g[2 * d + e]), g3 = FloatVector.broadcast(F, g[3 * d + e]);
            FloatVector q0 = FloatVector.broadcast(F, q[e]), q1 = FloatVector.broadcast(F, q[d + e]);
            FloatVector q2 = FloatVector.broadcast(F, q[2 * d + e]), q3 = FloatVector.broadcast(F, q[3 * d + e]);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int jb = j0, o = e * stride + j0; jb <= hi; jb += L, o += L) {
                FloatVector dvj = FloatVector.fromArray(F, dvt, o);
                dvj = FloatVector.fromArray(F, p, jb).fma(g0, dvj);
                dvj = FloatVector.fromArray(F, p, stride + jb).fma(g1, dvj);
                dvj = FloatVector.fromArray(F, p, 2 * stride + jb).fma(g2, dvj);
                FloatVector.fromArray(F, p, 3 * stride + jb).fma(g3, dvj).intoArray(dvt, o);
                FloatVector s0 = FloatVector.fromArray(F, ds, jb), s1 = FloatVector.fromArray(F, ds, stride + jb);
                FloatVector s2 = FloatVector.fromArray(F, ds, 2 * stride + jb), s3 = FloatVector.fromArray(F, ds, 3 * stride + jb);
                s3.fma(q3, s2.fma(q2, s1.fma(q1, s0.fma(q0, FloatVector.fromArray(F, dkt, o))))).intoArray(dkt, o);
                FloatVector kj = FloatVector.fromArray(F, kt, o);
                a0 = s0.fma(kj, a0);
                a1 = s1.fma(kj, a1);
                a2 = s2.fma(kj, a2);
                a3 = s3.fma(kj, a3);
            }
            if (w.row[0] >= 0) dqa[dqo + w.row[0] * d + e] = VectorMath.sum(a0);
            if (w.row[1] >= 0) dqa[dqo + w.row[1] * d + e] = VectorMath.sum(a1);
            if (w.row[2] >= 0) dqa[dqo + w.row[2] * d + e] = VectorMath.sum(a2);
            if (w.row[3] >= 0) dqa[dqo + w.row[3] * d + e] = VectorMath.sum(a3);
        }
    }
}
