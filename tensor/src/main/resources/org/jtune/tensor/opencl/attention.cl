// Scaled-dot-product attention with grouped KV heads, causal / sliding-window / segment masks, and its
// FlashAttention-2 style backward (Dao 2023). q (B, T, Hq, D), k and v (B, S, Hkv, D), all contiguous
// F32; query h uses kv head h / (Hq/Hkv). The visible keys of query t (absolute position qOff + t) are
// j in [lo, hi] with lo = qPos − window + 1 (window > 0), hi = qPos (causal), and the same segment id.

inline int visible_lo(int qPos, int window) { return window > 0 ? max(0, qPos - window + 1) : 0; }
inline int visible_hi(int qPos, int causal, int s) { return causal ? min(s - 1, qPos) : s - 1; }
inline int same_segment(__global const int* seg, long sego, int hasSeg, int b, int s, int j, int qPos) {
    return !hasSeg || seg[sego + b * s + j] == seg[sego + b * s + qPos];
}

inline float dotf(__global const float* x, __global const float* y, int d) {
    float s = 0.0f;
    for (int i = 0; i < d; i++) s += x[i] * y[i];
    return s;
}

/**
 * One work-item per query row (b, t, h): the scores' maximum, then Σ e^{s−max} and Σ e^{s−max}·v into out,
 * divided by the sum; lse = max + log Σ (−∞ and zeros for a query with no visible key).
 */
__kernel void attention_f(__global const uchar* qb, long qo, __global const uchar* kb, long ko, __global const uchar* vb, long vo,
                          __global const int* seg, long sego, int hasSeg, int causal, int window, int qOff, float scale,
                          __global uchar* ob, long oo, __global uchar* lseb, long lseo, int hasLse,
                          int batch, int tq, int hq, int s, int hkv, int d) {
    long r = get_global_id(0);
    if (r >= (long) batch * tq * hq) return;
    int b = r / (tq * hq), t = (r / hq) % tq, h = r % hq, kvh = h / (hq / hkv);
    int qPos = qOff + t, lo = visible_lo(qPos, window), hi = visible_hi(qPos, causal, s);
    __global const float* q = CF(qb, qo) + r * d;
    __global float* o = F(ob, oo) + r * d;
    for (int i = 0; i < d; i++) o[i] = 0.0f;
    float m = -INFINITY;
    int any = 0;
    for (int j = lo; j <= hi; j++) {
        if (!same_segment(seg, sego, hasSeg, b, s, j, qPos)) continue;
        m = fmax(m, scale * dotf(q, CF(kb, ko) + ((long) (b * s + j) * hkv + kvh) * d, d));
        any = 1;
    }
    float rowLse = -INFINITY;
    if (any) {
        float sum = 0.0f;
        for (int j = lo; j <= hi; j++) {
            if (!same_segment(seg, sego, hasSeg, b, s, j, qPos)) continue;
            long kv = ((long) (b * s + j) * hkv + kvh) * d;
            float p = exp(scale * dotf(q, CF(kb, ko) + kv, d) - m);
            sum += p;
            __global const float* v = CF(vb, vo) + kv;
            for (int i = 0; i < d; i++) o[i] += p * v[i];
        }
        float inv = 1.0f / sum;
        for (int i = 0; i < d; i++) o[i] *= inv;
        rowLse = (float) ((acc_t) m + log((acc_t) sum));
    }
    if (hasLse) F(lseb, lseo)[r] = rowLse;
}

/** Δ per query row = dOut·out. */
__kernel void attention_delta(__global const uchar* gb, long go, __global const uchar* ob, long oo, __global float* delta, long rows, int d) {
    long r = get_global_id(0);
    if (r < rows) delta[r] = dotf(CF(gb, go) + r * d, CF(ob, oo) + r * d, d);
}

/** dq per query row: Σ_j scale·ds_j·k_j with p_j = e^{s_j − lse}, ds_j = p_j (dOut·v_j − Δ). */
__kernel void attention_bwd_dq(__global const uchar* qb, long qo, __global const uchar* kb, long ko, __global const uchar* vb, long vo,
                               __global const uchar* lb, long lo0, __global const uchar* gb, long go, __global const float* delta,
                               __global const int* seg, long sego, int hasSeg, int causal, int window, int qOff, float scale,
                               __global uchar* dqb, long dqo, int batch, int tq, int hq, int s, int hkv, int d) {
    long r = get_global_id(0);
    if (r >= (long) batch * tq * hq) return;
    int b = r / (tq * hq), t = (r / hq) % tq, h = r % hq, kvh = h / (hq / hkv);
    __global float* dq = F(dqb, dqo) + r * d;
    for (int i = 0; i < d; i++) dq[i] = 0.0f;
    float l = CF(lb, lo0)[r];
    if (l == -INFINITY) return;
    int qPos = qOff + t, lo = visible_lo(qPos, window), hi = visible_hi(qPos, causal, s);
    __global const float* q = CF(qb, qo) + r * d;
    __global const float* g = CF(gb, go) + r * d;
    for (int j = lo; j <= hi; j++) {
        if (!same_segment(seg, sego, hasSeg, b, s, j, qPos)) continue;
        long kv = ((long) (b * s + j) * hkv + kvh) * d;
        float p = exp(scale * dotf(q, CF(kb, ko) + kv, d) - l);
        float ds = p * (dotf(g, CF(vb, vo) + kv, d) - delta[r]);
        __global const float* k = CF(kb, ko) + kv;
        for (int i = 0; i < d; i++) dq[i] += scale * ds * k[i];
    }
}

/** dk, dv per key row (b, j, g): summed over the query heads of group g and the queries that see key j, in order. */
__kernel void attention_bwd_dkv(__global const uchar* qb, long qo, __global const uchar* kb, long ko, __global const uchar* vb, long vo,
                                __global const uchar* lb, long lo0, __global const uchar* gb, long go, __global const float* delta,
                                __global const int* seg, long sego, int hasSeg, int causal, int window, int qOff, float scale,
                                __global uchar* dkb, long dko, __global uchar* dvb, long dvo, int batch, int tq, int hq, int s, int hkv, int d) {
    long kr = get_global_id(0);
    if (kr >= (long) batch * s * hkv) return;
    int b = kr / (s * hkv), j = (kr / hkv) % s, gk = kr % hkv, group = hq / hkv;
    __global const float* k = CF(kb, ko) + kr * d;
    __global const float* v = CF(vb, vo) + kr * d;
    __global float* dk = F(dkb, dko) + kr * d;
    __global float* dv = F(dvb, dvo) + kr * d;
    for (int i = 0; i < d; i++) { dk[i] = 0.0f; dv[i] = 0.0f; }
    for (int h = gk * group; h < (gk + 1) * group; h++) {
        for (int t = 0; t < tq; t++) {
            long r = ((long) (b * tq + t) * hq + h);
            float l = CF(lb, lo0)[r];
            if (l == -INFINITY) continue;
            int qPos = qOff + t;
            if (j < visible_lo(qPos, window) || j > visible_hi(qPos, causal, s)) continue;
            if (!same_segment(seg, sego, hasSeg, b, s, j, qPos)) continue;
            __global const float* q = CF(qb, qo) + r * d;
            __global const float* g = CF(gb, go) + r * d;
            float p = exp(scale * dotf(q, k, d) - l);
            float ds = p * (dotf(g, v, d) - delta[r]);
            for (int i = 0; i < d; i++) {
                dk[i] += scale * ds * q[i];
                dv[i] += p * g[i];
            }
        }
    }
}
