// Reductions and row kernels over contiguous F32 views as (outer, n, inner): reductions, argmax,
// sum-to-shape, Σx², softmax and its backward, RMSNorm and its backward, LayerNorm, RoPE. One
// work-item per output row (or column), each summing in index order: results do not depend on the
// device's parallelism.

/** ReduceOp ordinals: SUM, MEAN, MAX, MIN, VAR (two-pass, divided by max(0, n − correction) as torch.var). */
__kernel void reduce_f(int op, __global const uchar* x, long xo, long outer, long n, long inner, int correction,
                       __global uchar* out, long oo) {
    long r = get_global_id(0);
    if (r >= outer * inner) return;
    __global const float* a = CF(x, xo) + (r / inner) * n * inner + r % inner;
    float v;
    if (op == 2 || op == 3) {
        v = op == 2 ? -INFINITY : INFINITY;
        for (long i = 0; i < n; i++) {
            float e = a[i * inner];
            if (isnan(e)) { v = e; break; }
            v = op == 2 ? (e > v ? e : v) : (e < v ? e : v);
        }
    } else {
        float s = 0.0f;
        for (long i = 0; i < n; i++) s += a[i * inner];
        v = op == 0 ? s : s / (float) n;
        if (op == 4) {
            float mean = v, q = 0.0f;
            for (long i = 0; i < n; i++) { float d = a[i * inner] - mean; q += d * d; }
            long div = n - correction;
            v = q / (float) (div > 0 ? div : 0);
        }
    }
    F(out, oo)[r] = v;
}

/** Index of the first maximum along the row (the first NaN wins). */
__kernel void argmax_f(__global const uchar* x, long xo, long outer, long n, long inner, __global int* out, long oo) {
    long r = get_global_id(0);
    if (r >= outer * inner) return;
    __global const float* a = CF(x, xo) + (r / inner) * n * inner + r % inner;
    int best = 0;
    float bv = a[0];
    for (long i = 0; i < n; i++) {
        float e = a[i * inner];
        if (isnan(e)) { best = (int) i; break; }
        if (i == 0 || e > bv) { if (i > 0) best = (int) i; bv = e; }
    }
    out[oo + r] = best;
}

/**
 * out (shape Lo, size 1 where g was broadcast) ← g (shape Lg, contiguous) summed over those dims, one
 * work-item per output element in row-major order of the summed coordinates.
 */
__kernel void sumto_f(__global const uchar* g, long go, __global const long* Lg, __global const long* Lo,
                      __global uchar* out, long oo, long nOut, long perOut) {
    long o = get_global_id(0);
    if (o >= nOut) return;
    int r = (int) Lg[0];
    float s = 0.0f;
    for (long k = 0; k < perOut; k++) {
        long rest = k, oRest = o, idx = 0, mul = 1;
        for (int d = r - 1; d >= 0; d--) {
            long gn = Lg[1 + d], on = Lo[1 + d], c;
            if (on == 1 && gn > 1) { c = rest % gn; rest /= gn; } else { c = oRest % on; }
            oRest /= on;
            idx += c * mul;
            mul *= gn;
        }
        s += CF(g, go)[idx];
    }
    F(out, oo)[o] = s;
}

/** Partial Σx² of chunk c (elements [c·chunk, min(n, (c+1)·chunk)) in index order), in double where the device has it. */
__kernel void sumsq_f(__global const uchar* x, long xo, long n, long chunk, __global acc_t* partial) {
    long c = get_global_id(0);
    long from = c * chunk;
    if (from >= n) return;
    long to = min(n, from + chunk);
    acc_t s = 0;
    for (long i = from; i < to; i++) { acc_t v = CF(x, xo)[i]; s += v * v; }
    partial[c] = s;
}

/** Stable softmax (logOut 0) or log-softmax (1) of each row of length n. */
__kernel void softmax_f(__global const uchar* x, long xo, __global uchar* out, long oo, long rows, long n, int logOut) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* a = CF(x, xo) + r * n;
    __global float* y = F(out, oo) + r * n;
    float m = -INFINITY;
    for (long i = 0; i < n; i++) m = fmax(m, a[i]);
    for (long i = 0; i < n; i++) if (isnan(a[i])) m = NAN;
    float s = 0.0f;
    for (long i = 0; i < n; i++) s += exp(a[i] - m);
    if (logOut) {
        float l = log(s);
        for (long i = 0; i < n; i++) y[i] = a[i] - m - l;
    } else {
        float inv = 1.0f / s;
        for (long i = 0; i < n; i++) y[i] = exp(a[i] - m) * inv;
    }
}

/** softmax: out = y∘(g − Σg∘y); log-softmax: out = g − e^y·Σg. */
__kernel void softmax_bwd(__global const uchar* y, long yo, __global const uchar* g, long go, __global uchar* out, long oo,
                          long rows, long n, int logOut) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* yy = CF(y, yo) + r * n;
    __global const float* gg = CF(g, go) + r * n;
    __global float* o = F(out, oo) + r * n;
    float s = 0.0f;
    if (logOut) {
        for (long i = 0; i < n; i++) s += gg[i];
        for (long i = 0; i < n; i++) o[i] = gg[i] - exp(yy[i]) * s;
    } else {
        for (long i = 0; i < n; i++) s += gg[i] * yy[i];
        for (long i = 0; i < n; i++) o[i] = yy[i] * (gg[i] - s);
    }
}

/** RMSNorm (Zhang & Sennrich 2019): out = x·r·w, r = 1/√(mean(x²) + eps); rstd receives r when hasRstd. */
__kernel void rmsnorm_f(__global const uchar* x, long xo, __global const uchar* w, long wo, float eps,
                        __global uchar* out, long oo, __global uchar* rstd, long ro, int hasRstd, long rows, long n) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* a = CF(x, xo) + r * n;
    __global float* y = F(out, oo) + r * n;
    float s = 0.0f;
    for (long i = 0; i < n; i++) s += a[i] * a[i];
    float inv = 1.0f / sqrt(s / (float) n + eps);
    for (long i = 0; i < n; i++) y[i] = a[i] * inv * CF(w, wo)[i];
    if (hasRstd) F(rstd, ro)[r] = inv;
}

/** dx = r·(g∘w − x̂·mean(g∘w∘x̂)) with x̂ = x·r, one row per work-item. */
__kernel void rmsnorm_bwd_dx(__global const uchar* x, long xo, __global const uchar* w, long wo, __global const uchar* rs, long rso,
                             __global const uchar* g, long go, __global uchar* dx, long dxo, long rows, long n) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* a = CF(x, xo) + r * n;
    __global const float* gg = CF(g, go) + r * n;
    __global const float* ww = CF(w, wo);
    float inv = CF(rs, rso)[r], s = 0.0f;
    for (long i = 0; i < n; i++) s += gg[i] * ww[i] * (a[i] * inv);
    float mean = s / (float) n;
    for (long i = 0; i < n; i++) F(dx, dxo)[r * n + i] = inv * (gg[i] * ww[i] - a[i] * inv * mean);
}

/** dw = Σ_rows g∘x̂, one column per work-item, rows in order. */
__kernel void rmsnorm_bwd_dw(__global const uchar* x, long xo, __global const uchar* rs, long rso, __global const uchar* g, long go,
                             __global uchar* dw, long dwo, long rows, long n) {
    long c = get_global_id(0);
    if (c >= n) return;
    float s = 0.0f;
    for (long r = 0; r < rows; r++) s += CF(g, go)[r * n + c] * (CF(x, xo)[r * n + c] * CF(rs, rso)[r]);
    F(dw, dwo)[c] = s;
}

/** LayerNorm (Ba et al. 2016), biased variance; hasBias 0 = no bias. */
__kernel void layernorm_f(__global const uchar* x, long xo, __global const uchar* w, long wo, __global const uchar* b, long bo, int hasBias,
                          float eps, __global uchar* out, long oo, long rows, long n) {
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const float* a = CF(x, xo) + r * n;
    float s = 0.0f;
    for (long i = 0; i < n; i++) s += a[i];
    float mean = s / (float) n, q = 0.0f;
    for (long i = 0; i < n; i++) { float d = a[i] - mean; q += d * d; }
    float inv = 1.0f / sqrt(q / (float) n + eps);
    for (long i = 0; i < n; i++) {
        float v = (a[i] - mean) * inv * CF(w, wo)[i];
        F(out, oo)[r * n + i] = hasBias ? v + CF(b, bo)[i] : v;
    }
}

/**
 * RoPE, rotate_half layout (Su et al. 2021): one work-item per (b·t, head, i < D/2); θ = pos·invFreq[i]
 * with cos θ, sin θ in double where the device has it (as the CPU), rotated by −θ when inverse.
 */
__kernel void rope_f(__global const uchar* x, long xo, __global const int* pos, long po, __global const uchar* f, long fo,
                     int inverse, __global uchar* out, long oo, long bt, long h, long d) {
    long id = get_global_id(0);
    long hd = d / 2;
    if (id >= bt * h * hd) return;
    long i = id % hd, row = id / hd, r = row / h;
    acc_t theta = (acc_t) pos[po + r] * (acc_t) CF(f, fo)[i];
    float c = (float) cos(theta), s = (float) sin(theta);
    if (inverse) s = -s;
    __global const float* a = CF(x, xo) + row * d;
    float x1 = a[i], x2 = a[i + hd];
    F(out, oo)[row * d + i] = x1 * c - x2 * s;
    F(out, oo)[row * d + i + hd] = x2 * c + x1 * s;
}
