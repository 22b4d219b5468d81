package org.jtune.tensor.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Scaled-dot-product attention, the one forward kernel of inference and training, one (batch, query
 * position, query head) row at a time:
 * the visible keys of the row are those the mask allows (causal: key ≤ query position; window w:
 * query − key &lt; w; segments: same segment id; query position = queryOffset + t), their scores
 * s_j = scale · q·k_j go into one scratch row, p = softmax(s) (stable: exp(s − max) / Σ), and
 * out = Σ p_j v_j. Query head h reads kv head h / (Hq / Hkv) (grouped-query attention). A row with
 * no visible key is zero. Only one row of scores per thread exists at a time. k and v are read as
 * F32 with unit stride along D, converted once per call when they are not; inference under
 * {@link #TRANSPOSED_KEYS_MIN_QUERIES} query positions reads BF16 or F16 k and v (a half-precision KV
 * cache) where they lie instead, widening each vector in registers: the bits of the converted call. For training, the row's
 * logsumexp lse = max + log Σ exp(s − max) is kept (−∞ for a row with no visible key), from which
 * {@link AttentionBackward} recomputes the probabilities.
 *
 * <p>Inference over {@link #TRANSPOSED_KEYS_MIN_QUERIES} or more query positions (a prefill) first copies the keys
 * transposed, kT[b, kvh][e][j] = k[b, j, kvh, e], and computes a row's scores a vector of keys at a time,
 * s[j..j+L) = Σ_e q[e]·kT[e][j..j+L) by FMA in increasing e: no horizontal sum per key (a 64-wide key's dot product
 * was four FMAs and a fifteen-add lane sum). With the weighted sum of values kept in registers ({@link
 * #weightedValues}), 7 → 2.5 ms per layer of the 1.1B shape at 128 positions on one thread. Four query heads of a kv
 * group at a time ({@link FourHeadAttention}: the same bits, each key and value vector loaded once for the four) took a
 * 1024-token prefill of the 1.1B shape from 11.3 to 10.1 s (Q4_0, two threads). Training (lse requested) reads the
 * transposed keys at any length, as {@link AttentionBackward} does, so the backward recomputes the very scores the forward
 * had; decoding keeps per-key dot products ({@link RowKernels#scoreDot}, whose tree sum of the lanes costs half as much
 * per key's score).
 */
final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Query positions per sequence from which inference scores through transposed keys. */
    static final int TRANSPOSED_KEYS_MIN_QUERIES = 16;
    /** Transposed-key rows four heads at a time ({@link FourHeadAttention}); -Djtune.attention.fourHeads=false: one at a time. */
    static volatile boolean fourHeads = !"false".equals(System.getProperty("jtune.attention.fourHeads"));

    private Attention() {}

    static void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        int batch = q.size(0), tq = q.size(1), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (out.numel() == 0) return;
        int group = hq / hkv;
        // a decode step reads a BF16 or F16 KV cache where it lies, widening each vector in registers; else F32 throughout
        boolean inPlace = lse == null && tq < TRANSPOSED_KEYS_MIN_QUERIES && k.dtype() == v.dtype()
                && HalfVectors.shorts(k) != null && HalfVectors.shorts(v) != null;
        short[] kh = inPlace ? HalfVectors.shorts(k) : null, vh = inPlace ? HalfVectors.shorts(v) : null;
        boolean bf16 = k.dtype() == DType.BF16;
        Tensor kc = kh != null ? k : unitLastDim(k), vc = kh != null ? v : unitLastDim(v);
        float[] ka = kc.storage().floatArray(), va = vc.storage().floatArray();
        long kOff = kc.offset(), ks0 = kc.stride(0), ks1 = kc.stride(1), ks2 = kc.stride(2);
        long vOff = vc.offset(), vs0 = vc.stride(0), vs1 = vc.stride(1), vs2 = vc.stride(2);
        int[] seg = segments(mask.segments(), batch, s);
        boolean causal = mask.causal();
        int window = mask.window(), queryOffset = mask.queryOffset();
        Rows qr = Rows.lastDim(q);
        Rows o = Rows.lastDim(out);
        float[] la = lse == null ? null : Elementwise.arr(lse);
        int lo0 = lse == null ? 0 : (int) lse.offset();
        int rows = batch * tq * hq;
        int sp = (s + L - 1) / L * L + L; // one vector past whole vectors: a power-of-two stride put the rows of a key vector in two L1 sets
        float[] kt = lse != null || tq >= TRANSPOSED_KEYS_MIN_QUERIES ? transposedKeys(ka, kOff, ks0, ks1, ks2, batch, s, hkv, d, sp) : null;
        if (kt != null && group % FourHeadAttention.HEADS == 0 && fourHeads) {
            int quartets = group / FourHeadAttention.HEADS;
            Parallel.forPieces(batch * tq * hkv * quartets, Rows.grain(2L * FourHeadAttention.HEADS * s * d), 4, (u0, u1) -> {
                FourHeadAttention.Scratch w = new FourHeadAttention.Scratch(d, sp, s);
                float[] qbuf = qr.direct() ? null : new float[d];
                for (int u = u0; u < u1; u++) {
                    int quartet = u % quartets, kvh = (u / quartets) % hkv, t = (u / (quartets * hkv)) % tq, b = u / (quartets * hkv * tq);
                    int first = (b * tq + t) * hq + kvh * group + quartet * FourHeadAttention.HEADS; // the row of the quartet's first head
                    for (int h = 0; h < FourHeadAttention.HEADS; h++) System.arraycopy(qr.arrayOf(first + h, qbuf), qr.baseOf(first + h, qbuf), w.q, h * d, d);
                    int qPos = queryOffset + t;
                    int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                    int hi = causal ? Math.min(s - 1, qPos) : s - 1;
                    if (lo <= hi) FourHeadAttention.scores(w.q, d, kt, (b * hkv + kvh) * d * sp, sp, lo / L * L, hi, w.all, w.offsets);
                    int n = 0;
                    for (int j = lo; j <= hi; j++) if (seg == null || seg[b * s + j] == seg[b * s + qPos]) w.keys[n++] = j;
                    for (int h = 0; h < FourHeadAttention.HEADS; h++) {
                        float max = Float.NEGATIVE_INFINITY;
                        for (int i = 0; i < n; i++) {
                            float sc = scale * w.all[h * sp + w.keys[i]];
                            w.scores[h * s + i] = sc;
                            max = Math.max(max, sc);
                        }
                        if (n > 0) w.sums[h] = RowKernels.expShiftedSum(w.scores, h * s, n, max, w.scores, h * s);
                        if (la != null) la[lo0 + first + h] = n > 0 ? logSumExp(max, w.sums[h]) : Float.NEGATIVE_INFINITY;
                    }
                    Arrays.fill(w.acc, 0f);
                    if (n > 0) FourHeadAttention.weightedValues(w.scores, s, w.keys, n, va, vOff + b * vs0 + vs2 * kvh, vs1, d, w.acc, w);
                    for (int h = 0; h < FourHeadAttention.HEADS; h++) {
                        if (n > 0) RowKernels.scale(w.acc, h * d, d, 1f / w.sums[h], w.acc, h * d);
                        if (o.direct()) System.arraycopy(w.acc, h * d, o.array(), (int) o.offset(first + h), d);
                        else {
                            System.arraycopy(w.acc, h * d, w.row, 0, d);
                            o.store(first + h, w.row);
                        }
                    }
                }
            });
            return;
        }
        Parallel.forPieces(rows, Rows.grain(2L * s * d), 4, (r0, r1) -> {
            float[] qbuf = qr.direct() ? null : new float[d];
            float[] all = kt == null ? null : new float[sp];
            float[] acc = new float[d];
            float[] scores = new float[s];
            int[] keys = new int[s];
            for (int r = r0; r < r1; r++) {
                int b = r / (tq * hq), t = (r / hq) % tq, h = r % hq, kvh = h / group;
                int qPos = queryOffset + t;
                int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                int hi = causal ? Math.min(s - 1, qPos) : s - 1;
                float[] qa = qr.arrayOf(r, qbuf);
                int qBase = qr.baseOf(r, qbuf);
                long kRow = kOff + b * ks0 + kvh * ks2, vRow = vOff + b * vs0 + vs2 * kvh;
                int n = 0;
                float max = Float.NEGATIVE_INFINITY;
                if (kt != null && lo <= hi) scores(qa, qBase, kt, (b * hkv + kvh) * d * sp, sp, d, lo / L * L, hi, all);
                for (int j = lo; j <= hi; j++) {
                    if (seg != null && seg[b * s + j] != seg[b * s + qPos]) continue;
                    float sc = scale * (kt != null ? all[j]
                            : kh != null ? RowKernels.scoreDot(qa, qBase, kh, (int) (kRow + j * ks1), d, bf16)
                            : RowKernels.scoreDot(qa, qBase, ka, (int) (kRow + j * ks1), d));
                    keys[n] = j;
                    scores[n++] = sc;
                    max = Math.max(max, sc);
                }
                float rowLse = softmaxValues(scores, keys, n, max, va, vh, bf16, vRow, vs1, d, acc);
                if (la != null) la[lo0 + r] = rowLse;
                if (o.direct()) System.arraycopy(acc, 0, o.array(), (int) o.offset(r), d);
                else o.store(r, acc);
            }
        });
    }

    /** kT[((b·hkv + h)·d + e)·sp + j] = k[b, j, h, e] (zero for j in [s, sp)). */
    private static float[] transposedKeys(float[] ka, long kOff, long ks0, long ks1, long ks2, int batch, int s, int hkv, int d, int sp) {
        float[] kt = new float[Math.multiplyExact(Math.multiplyExact(batch * hkv, d), sp)];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < hkv; h++) {
                int base = (b * hkv + h) * d * sp;
                for (int j = 0; j < s; j++) {
                    int row = (int) (kOff + b * ks0 + j * ks1 + h * ks2);
                    for (int e = 0; e < d; e++) kt[base + e * sp + j] = ka[row + e];
                }
            }
        }
        return kt;
    }

    /**
     * all[j] = Σ_e q[qo + e]·kT[base + e·sp + j] (FMA in increasing e) for j in [j0, hi] rounded up to whole vectors;
     * j0 a multiple of the lane count. Four vectors of keys at a time, then one.
     */
    private static void scores(float[] q, int qo, float[] kt, int base, int sp, int d, int j0, int hi, float[] all) {
        int j = j0;
        for (; j + 4 * L <= hi + 1; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0, o = base + j; e < d; e++, o += sp) {
                FloatVector qe = FloatVector.broadcast(F, q[qo + e]);
                a0 = FloatVector.fromArray(F, kt, o).fma(qe, a0);
                a1 = FloatVector.fromArray(F, kt, o + L).fma(qe, a1);
                a2 = FloatVector.fromArray(F, kt, o + 2 * L).fma(qe, a2);
                a3 = FloatVector.fromArray(F, kt, o + 3 * L).fma(qe, a3);
            }
            a0.intoArray(all, j);
            a1.intoArray(all, j + L);
            a2.intoArray(all, j + 2 * L);
            a3.intoArray(all, j + 3 * L);
        }
        for (; j <= hi; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int e = 0, o = base + j; e < d; e++, o += sp) a = FloatVector.fromArray(F, kt, o).fma(FloatVector.broadcast(F, q[qo + e]), a);
            a.intoArray(all, j);
        }
    }

    /**
     * A row's output from its n visible keys' scores (their maximum {@code max}): acc[0, d) ← Σ_i softmax(scores)_i ·
     * v[vRow + keys[i]·vs1 ..] (zeros when n = 0; scores become e^{s − max}), v the floats va or, when vh is not null, the
     * 16-bit floats vh (BF16 when {@code bf16}, else F16) widened in registers. Returns the row's logsumexp (−∞ when n = 0).
     */
    static float softmaxValues(float[] scores, int[] keys, int n, float max, float[] va, short[] vh, boolean bf16, long vRow, long vs1, int d,
                               float[] acc) {
        Arrays.fill(acc, 0f);
        if (n == 0) return Float.NEGATIVE_INFINITY;
        float sum = RowKernels.expShiftedSum(scores, 0, n, max, scores, 0);
        weightedValues(scores, keys, n, va, vh, bf16, vRow, vs1, d, acc);
        RowKernels.scale(acc, 0, d, 1f / sum, acc, 0);
        return logSumExp(max, sum);
    }

    /** A row's logsumexp from its largest score and Σ e^{s − max}: one expression for both paths, so they give the same bits. */
    private static float logSumExp(float max, float sum) {
        return (float) (max + Math.log(sum));
    }

    /**
     * acc[0, d) = Σ_i p[i]·v[vRow + keys[i]·vs1 ..] (acc zero on entry), v the floats va or, when vh is not null, the 16-bit
     * floats vh widened in registers: per element the same FMA sequence, in increasing i, as one {@link RowKernels#axpy} per
     * key, but with four vectors of acc held in registers across the keys instead of loaded and stored again for every key.
     */
    private static void weightedValues(float[] p, int[] keys, int n, float[] va, short[] vh, boolean bf16, long vRow, long vs1, int d,
                                       float[] acc) {
        int c = 0;
        for (; c + 4 * L <= d; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < n; i++) {
                FloatVector pi = FloatVector.broadcast(F, p[i]);
                int o = (int) (vRow + keys[i] * vs1) + c;
                a0 = valueVector(va, vh, bf16, o).fma(pi, a0);
                a1 = valueVector(va, vh, bf16, o + L).fma(pi, a1);
                a2 = valueVector(va, vh, bf16, o + 2 * L).fma(pi, a2);
                a3 = valueVector(va, vh, bf16, o + 3 * L).fma(pi, a3);
            }
            a0.intoArray(acc, c);
            a1.intoArray(acc, c + L);
            a2.intoArray(acc, c + 2 * L);
            a3.intoArray(acc, c + 3 * L);
        }
        for (; c + L <= d; c += L) {
            FloatVector a = FloatVector.zero(F);
            for (int i = 0; i < n; i++) a = valueVector(va, vh, bf16, (int) (vRow + keys[i] * vs1) + c).fma(FloatVector.broadcast(F, p[i]), a);
            a.intoArray(acc, c);
        }
        for (; c < d; c++) {
            float a = 0f;
            for (int i = 0; i < n; i++) {
                int o = (int) (vRow + keys[i] * vs1) + c;
                a += p[i] * (vh == null ? va[o] : HalfVectors.widen(vh[o], bf16));
            }
            acc[c] = a;
        }
    }

    /** The vector of values at o: from the floats, or the 16-bit floats widened (the flag and array are fixed for a call). */
    private static FloatVector valueVector(float[] va, short[] vh, boolean bf16, int o) {
        return vh == null ? FloatVector.fromArray(F, va, o) : HalfVectors.widen(vh, o, bf16);
    }

    /** t itself when it is heap F32 with unit stride along the last dim, else a contiguous F32 copy. */
    static Tensor unitLastDim(Tensor t) {
        Tensor f = Elementwise.f32(t);
        return f.stride(-1) == 1 || f.size(-1) <= 1 ? f : f.contiguous();
    }

    static int[] segments(Tensor seg, int batch, int s) {
        if (seg == null) return null;
        int[] a = new int[batch * s];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < s; j++) a[b * s + j] = seg.storage().getInt(DType.I32, seg.offset() + b * seg.stride(0) + j * seg.stride(1));
        }
        return a;
    }
}
