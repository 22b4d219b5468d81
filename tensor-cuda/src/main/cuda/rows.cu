// Contract: row kernels on contiguous F32 matrices (rows × n, the reduced dim last; the backend permutes
// and densifies first). One block of ROW_THREADS (256) threads per row, grid (rows); sums in a fixed
// order (per-thread strided partials, then warps, then the block), so results do not vary run to run.
// Column reductions over rows (RMSNorm's dw) use one thread per column looping rows in order.
#include "common.cuh"

// ReduceOp ordinals.
enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_VAR };

// RMSNorm (Zhang & Sennrich 2019): out = x·r·w, r = rsqrt(mean(x²) + eps); rstd (nullable) receives r.
extern "C" __global__ void rmsnorm_f32(const float* x, const float* w, float* out, float* rstd, int n, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long) blockIdx.x * n;
    float* o = out + (long long) blockIdx.x * n;
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j] * xr[j];
    s = block_sum(s, scratch);
    float r = rsqrtf(s / n + eps);
    if (rstd && threadIdx.x == 0) rstd[blockIdx.x] = r;
    for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = xr[j] * r * w[j];
}

// dx = r·(g∘w − x̂·mean(g∘w∘x̂)), x̂ = x·r.
extern "C" __global__ void rmsnorm_backward_dx_f32(const float* x, const float* w, const float* rstd, const float* g, float* dx, int n) {
    __shared__ float scratch[32];
    long long base = (long long) blockIdx.x * n;
    float r = rstd[blockIdx.x], s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += g[base + j] * w[j] * x[base + j] * r;
    float mean = block_sum(s, scratch) / n;
    for (int j = threadIdx.x; j < n; j += blockDim.x) dx[base + j] = r * (g[base + j] * w[j] - x[base + j] * r * mean);
}

// dw[j] = Σ_rows g·x̂, rows in order; grid-stride over columns.
extern "C" __global__ void rmsnorm_backward_dw_f32(const float* x, const float* rstd, const float* g, float* dw, int rows, int n) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int i = 0; i < rows; i++) s += g[(long long) i * n + j] * x[(long long) i * n + j] * rstd[i];
        dw[j] = s;
    }
}

// LayerNorm (Ba et al. 2016), biased variance; b may be null.
extern "C" __global__ void layernorm_f32(const float* x, const float* w, const float* b, float* out, int n, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long) blockIdx.x * n;
    float* o = out + (long long) blockIdx.x * n;
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
    float mean = block_sum(s, scratch) / n;
    float v = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) v += (xr[j] - mean) * (xr[j] - mean);
    float r = rsqrtf(block_sum(v, scratch) / n + eps);
    for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = (xr[j] - mean) * r * w[j] + (b ? b[j] : 0.f);
}

// Stable (log-)softmax: m = max, out = e^{x−m}/Σ or x − m − log Σ.
extern "C" __global__ void softmax_f32(const float* x, float* out, int n, int log) {
    __shared__ float scratch[32];
    const float* xr = x + (long long) blockIdx.x * n;
    float* o = out + (long long) blockIdx.x * n;
    float m = -CUDART_INF_F;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(xr[j] - m);
    s = block_sum(s, scratch);
    if (log) {
        float ls = logf(s);
        for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = xr[j] - m - ls;
    } else {
        float inv = 1.f / s;
        for (int j = threadIdx.x; j < n; j += blockDim.x) o[j] = expf(xr[j] - m) * inv;
    }
}

// softmax: out = y∘(g − Σ g∘y); log-softmax: out = g − e^y·Σ g.
extern "C" __global__ void softmax_backward_f32(const float* y, const float* g, float* out, int n, int log) {
    __shared__ float scratch[32];
    long long base = (long long) blockIdx.x * n;
    float s = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += log ? g[base + j] : g[base + j] * y[base + j];
    s = block_sum(s, scratch);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        out[base + j] = log ? g[base + j] - expf(y[base + j]) * s : y[base + j] * (g[base + j] - s);
    }
}

// out[row] = reduction of the row; VAR uses the two-pass formula Σ(x − mean)² / (n − correction). NaN propagates in MAX/MIN.
extern "C" __global__ void reduce_rows_f32(const float* x, float* out, int n, int op, int correction) {
    __shared__ float scratch[32];
    const float* xr = x + (long long) blockIdx.x * n;
    float r;
    if (op == R_MAX || op == R_MIN) {
        float m = op == R_MAX ? -CUDART_INF_F : CUDART_INF_F;
        int nan = 0;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            float v = xr[j];
            nan |= isnan(v);
            m = op == R_MAX ? fmaxf(m, v) : fminf(m, v);
        }
        float anyNan = block_sum((float) nan, scratch);
        r = op == R_MAX ? block_max(m, scratch) : -block_max(-m, scratch);
        if (anyNan > 0.f) r = CUDART_NAN_F;
    } else {
        float s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += xr[j];
        s = block_sum(s, scratch);
        if (op == R_SUM) r = s;
        else if (op == R_MEAN) r = s / n;
        else {
            float mean = s / n, v = 0.f;
            for (int j = threadIdx.x; j < n; j += blockDim.x) v += (xr[j] - mean) * (xr[j] - mean);
            r = block_sum(v, scratch) / (float) (n - correction);
        }
    }
    if (threadIdx.x == 0) out[blockIdx.x] = r;
}

// Index of the first maximum of each row (NaN counts as maximum): one thread per row, in index order.
extern "C" __global__ void argmax_rows_f32(const float* x, int* out, int rows, int n) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long) row * n;
    int best = 0;
    float bv = xr[0];
    for (int j = 1; j < n && !isnan(bv); j++) {
        float v = xr[j];
        if (isnan(v) || v > bv) { bv = v; best = j; }
    }
    out[row] = best;
}

// Σ x² in double over fixed chunks of `chunk` elements, one block per chunk; the host adds the partials in order.
extern "C" __global__ void sum_squares_partial_f32(const float* x, double* partial, long long n, int chunk) {
    __shared__ double scratch[32];
    long long from = (long long) blockIdx.x * chunk, to = min(n, from + chunk);
    double s = 0.0;
    for (long long i = from + threadIdx.x; i < to; i += blockDim.x) s += (double) x[i] * x[i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        double t = 0.0;
        for (int w = 0; w < (int) (blockDim.x >> 5); w++) t += scratch[w];
        partial[blockIdx.x] = t;
    }
}
