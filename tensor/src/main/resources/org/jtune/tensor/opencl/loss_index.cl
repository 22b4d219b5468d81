// Cross-entropy and its gradient, top-k, embedding and its gradient, index-select, gather and
// scatter-add. Targets and ids were range-checked on the host (the error names the row); kernels
// trust them. Sums run in index order inside one work-item: deterministic on any device.

/** {m, s}: the row's maximum and Σ e^{x−m} (m = −∞ when every entry is −∞). */
inline float2 lse_parts(__global const float* a, long v) {
    float m = -INFINITY, s = 0.0f;
    for (long j = 0; j < v; j++) m = fmax(m, a[j]);
    if (m == -INFINITY) return (float2)(m, 0.0f);
    for (long j = 0; j < v; j++) s += exp(a[j] - m);
    return (float2)(m, s);
}

/** losses[r] = logsumexp − x[target] (0 for the ignore index); lse[r] when hasLse (0 for ignored rows). */
__kernel void ce_f(__global const uchar* x, long xo, __global const int* t, long to, int ignore, __global uchar* losses, long lo,
                   __global uchar* lse, long lseo, int hasLse, long rows, long v) {
    long r = get_global_id(0);
    if (r >= rows) return;
    int tr = t[to + r];
    float loss = 0.0f, rowLse = 0.0f;
    if (tr != ignore) {
        __global const float* a = CF(x, xo) + r * v;
        float2 ms = lse_parts(a, v);
        if (ms.x == -INFINITY) { loss = NAN; rowLse = NAN; }
        else {
            loss = (float) (((acc_t) ms.x - (acc_t) a[tr]) + log((acc_t) ms.y));
            rowLse = (float) ((acc_t) ms.x + log((acc_t) ms.y));
        }
    }
    F(losses, lo)[r] = loss;
    if (hasLse) F(lse, lseo)[r] = rowLse;
}

/** grad[r][j] = (e^{x_j − lse_r} − [j = t_r])·scale, zero rows for ignored targets (or scale 0); grad may be x. */
__kernel void ce_bwd(__global const uchar* x, long xo, __global const int* t, long to, int ignore, __global const uchar* lse, long lseo,
                     float scale, __global uchar* grad, long gro, long rows, long v) {
    long id = get_global_id(0);
    if (id >= rows * v) return;
    long r = id / v, j = id % v;
    int tr = t[to + r];
    float out = 0.0f;
    if (tr != ignore && scale != 0.0f) {
        float e = (float) exp((acc_t) (CF(x, xo)[id] - CF(lse, lseo)[r]));
        out = j == tr ? (e - 1.0f) * scale : e * scale;
    }
    F(grad, gro)[id] = out;
}

/** Losses and the scaled gradient in one pass per row (grad may be the logits: each element is read before it is written). */
__kernel void ce_with_grad(__global const uchar* x, long xo, __global const int* t, long to, int ignore, float scale,
                           __global uchar* losses, long lo, __global uchar* grad, long gro, long rows, long v) {
    long r = get_global_id(0);
    if (r >= rows) return;
    int tr = t[to + r];
    __global const float* a = CF(x, xo) + r * v;
    __global float* g = F(grad, gro) + r * v;
    if (tr == ignore) {
        for (long j = 0; j < v; j++) g[j] = 0.0f;
        F(losses, lo)[r] = 0.0f;
        return;
    }
    float2 ms = lse_parts(a, v);
    float l = ms.x == -INFINITY ? NAN : (float) ((acc_t) ms.x + log((acc_t) ms.y));
    F(losses, lo)[r] = ms.x == -INFINITY ? NAN : (float) (((acc_t) ms.x - (acc_t) a[tr]) + log((acc_t) ms.y));
    float xt = a[tr];
    for (long j = 0; j < v; j++) g[j] = scale == 0.0f ? 0.0f : (float) exp((acc_t) (a[j] - l)) * scale;
    if (scale != 0.0f) g[tr] = ((float) exp((acc_t) (xt - l)) - 1.0f) * scale;
}

/** Order of top-k: NaN above +∞, −0 equal to +0, then ascending index. True when (a, ia) comes before (b, ib). */
inline int topk_before(float a, int ia, float b, int ib) {
    if (isnan(a) || isnan(b)) return isnan(a) && (!isnan(b) || ia < ib);
    if (a != b) return a > b;
    return ia < ib;
}

/** The k best of each row, in order, by k selection passes: each takes the best element after the previous one. */
__kernel void topk_f(__global const uchar* x, long xo, long rows, long v, int k, __global uchar* vals, long vo, __global int* idx, long io) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* a = CF(x, xo) + r * v;
    float pv = 0.0f;
    int pi = -1;
    for (int s = 0; s < k; s++) {
        int best = -1;
        float bv = 0.0f;
        for (int j = 0; j < (int) v; j++) {
            if (pi >= 0 && !topk_before(pv, pi, a[j], j)) continue;
            if (best < 0 || topk_before(a[j], j, bv, best)) { best = j; bv = a[j]; }
        }
        F(vals, vo)[r * k + s] = bv;
        idx[io + r * k + s] = best;
        pv = bv;
        pi = best;
    }
}

/** out[i][d] = weight[ids[i]][d], weight contiguous (V, D) of dtype wdt. */
__kernel void embedding_f(__global const uchar* w, long wo, int wdt, __global const int* ids, long io, __global uchar* out, long oo,
                          long n, long d) {
    long id = get_global_id(0);
    if (id >= n * d) return;
    long i = id / d, c = id % d;
    F(out, oo)[id] = ld(w, wdt, wo + (long) ids[io + i] * d + c);
}

/** dW[ids[i]][c] += g[i][c] for each column c (one work-item), positions in order; ids < 0 skipped. */
__kernel void embedding_bwd(__global const uchar* g, long go, __global const int* ids, long io, __global uchar* dw, long dwo, long n, long d) {
    long c = get_global_id(0);
    if (c >= d) return;
    for (long i = 0; i < n; i++) {
        int row = ids[io + i];
        if (row < 0) continue;
        F(dw, dwo)[(long) row * d + c] += CF(g, go)[i * d + c];
    }
}

/** out (outer, k, inner) = x (outer, n, inner) at idx along the middle dim. */
__kernel void index_select_f(__global const uchar* x, long xo, __global const int* idx, long io, __global uchar* out, long oo,
                             long outer, long n, long k, long inner) {
    long id = get_global_id(0);
    if (id >= outer * k * inner) return;
    long in = id % inner, j = (id / inner) % k, o = id / (inner * k);
    F(out, oo)[id] = CF(x, xo)[(o * n + idx[io + j]) * inner + in];
}

/** torch.gather: out[c] = x[c with dim replaced by idx[c]], idx (layout Li = out's shape, contiguous), x layout Lx (contiguous). */
__kernel void gather_f(__global const uchar* x, long xo, __global const long* Lx, __global const int* idx, long io, __global const long* Li,
                       int dim, __global uchar* out, long oo, long n) {
    long id = get_global_id(0);
    if (id >= n) return;
    int r = (int) Li[0];
    long rest = id, xi = 0, mul = 1;
    for (int d = r - 1; d >= 0; d--) {
        long c = rest % Li[1 + d];
        rest /= Li[1 + d];
        if (d == dim) c = idx[io + id];
        xi += c * mul;
        mul *= Lx[1 + d];
    }
    F(out, oo)[id] = CF(x, xo)[xi];
}

/**
 * torch.scatter_add_: dst[c with dim replaced by idx[c]] += src[c] over src's shape (Ls, contiguous; idx the same),
 * dst layout Ld (contiguous). One work-item per line along dim (all other coordinates), walking the line in order.
 */
__kernel void scatter_add_f(__global uchar* dst, long dso, __global const long* Ld, __global const int* idx, long io,
                            __global const uchar* src, long so, __global const long* Ls, int dim, long lines) {
    long id = get_global_id(0);
    if (id >= lines) return;
    int r = (int) Ls[0];
    long len = Ls[1 + dim];
    for (long j = 0; j < len; j++) {
        long rest = id, si = 0, di = 0, smul = 1, dmul = 1;
        for (int d = r - 1; d >= 0; d--) {
            long c;
            if (d == dim) c = j; else { c = rest % Ls[1 + d]; rest /= Ls[1 + d]; }
            si += c * smul;
            if (d != dim) di += c * dmul;
            smul *= Ls[1 + d];
            dmul *= Ld[1 + d];
        }
        // dst's coordinate along dim is idx at src's position
        long dd = idx[io + si];
        long stride = 1;
        for (int d = r - 1; d > dim; d--) stride *= Ld[1 + d];
        F(dst, dso)[di + dd * stride] += CF(src, so)[si];
    }
}
