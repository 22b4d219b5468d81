// Contract: fused scaled-dot-product attention, forward and backward, FlashAttention-2 style (Dao 2023):
// scores are never stored; each warp owns one query row (forward, dq) or one key row (dk, dv) and streams
// tiles of ATT_TILE (32) rows of the other side through shared memory, one row per lane for the dot
// products and the online softmax (max and sum rescaled per tile). Layouts are contiguous F32:
// q (B, T, Hq, D), k and v (B, S, Hkv, D), out/dq like q, dk/dv like k, lse and delta (B, T, Hq).
// GQA: query head h reads kv head h / (Hq / Hkv). Mask (org.jtune.tensor.AttentionMask): query i has
// position qOff + i; key j is visible when (!causal || j ≤ pos) && (window ≤ 0 || pos − j < window) and,
// when seg (B, S) I32 is not null, seg[b][j] == seg[b][pos]. D ≤ ATT_MAX_D (128): the backend checks.
// Launch: block ATT_WARPS·32 threads; dynamic shared memory as each kernel's comment says.
// For T > 1 the backend uses the matrix-product kernels at the end of this file instead (CudaAttention).
#include "common.cuh"
#include "attention_mask.cuh"

#define ATT_TILE 32
#define ATT_WARPS 4
#define ATT_MAX_D 128
#define ATT_DPL (ATT_MAX_D / 32)   // output dims per lane

// Loads rows [r0, r0 + ATT_TILE) of a (rows, stride) matrix (cols D, row step `step`) into dst[ATT_TILE][D + 1].
__device__ __forceinline__ void load_tile(float* dst, const float* src, long long base, long long step, int r0, int rows, int D) {
    for (int e = threadIdx.x; e < ATT_TILE * D; e += blockDim.x) {
        int r = e / D, d = e % D;
        dst[r * (D + 1) + d] = (r0 + r < rows) ? src[base + (long long) (r0 + r) * step + d] : 0.f;
    }
}

// Forward. Grid (ceil(T / ATT_WARPS), Hq, B). Shared: 2·ATT_TILE·(D+1) + ATT_WARPS·D floats.
extern "C" __global__ void attention_fwd_f32(const float* q, const float* k, const float* v, const int* seg, float* out,
                                             float* lse, AttShape a) {
    extern __shared__ float sh[];
    float* Ks = sh;
    float* Vs = Ks + ATT_TILE * (a.D + 1);
    float* Qs = Vs + ATT_TILE * (a.D + 1);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int b = blockIdx.z, h = blockIdx.y, hk = h / (a.Hq / a.Hkv);
    int t0 = blockIdx.x * ATT_WARPS, t = t0 + warp;
    bool live = t < a.T;
    int qpos = a.qOff + t;
    long long qBase = (((long long) b * a.T + t) * a.Hq + h) * a.D;
    for (int d = lane; d < a.D; d += 32) Qs[warp * a.D + d] = live ? q[qBase + d] : 0.f;
    // Keys any row of this block may see.
    int lastPos = a.qOff + min(a.T, t0 + ATT_WARPS) - 1;
    int jEnd = a.causal ? min(a.S, lastPos + 1) : a.S;
    int jBegin = a.window > 0 ? max(0, a.qOff + t0 - a.window + 1) : 0;
    long long kBase = (long long) b * a.S * a.Hkv * a.D + (long long) hk * a.D, kStep = (long long) a.Hkv * a.D;
    float m = -CUDART_INF_F, l = 0.f, acc[ATT_DPL];
    for (int c = 0; c < ATT_DPL; c++) acc[c] = 0.f;
    for (int j0 = jBegin; j0 < jEnd; j0 += ATT_TILE) {
        __syncthreads();
        load_tile(Ks, k, kBase, kStep, j0, a.S, a.D);
        load_tile(Vs, v, kBase, kStep, j0, a.S, a.D);
        __syncthreads();
        int j = j0 + lane;
        float s = -CUDART_INF_F;
        if (live && j < jEnd && visible(a, seg, b, qpos, j)) {
            float dot = 0.f;
            for (int d = 0; d < a.D; d++) dot += Qs[warp * a.D + d] * Ks[lane * (a.D + 1) + d];
            s = dot * a.scale;
        }
        float mNew = fmaxf(m, warp_max(s));
        if (mNew == -CUDART_INF_F) continue;
        float p = s == -CUDART_INF_F ? 0.f : expf(s - mNew);
        float corr = m == -CUDART_INF_F ? 0.f : expf(m - mNew);
        l = l * corr + warp_sum(p);
        m = mNew;
        for (int c = 0; c < ATT_DPL; c++) acc[c] *= corr;
        for (int jj = 0; jj < ATT_TILE; jj++) {
            float pj = __shfl_sync(0xffffffffu, p, jj);
            if (pj == 0.f) continue;
            for (int c = 0; c < ATT_DPL; c++) {
                int d = lane + 32 * c;
                if (d < a.D) acc[c] += pj * Vs[jj * (a.D + 1) + d];
            }
        }
    }
    if (!live) return;
    float inv = l > 0.f ? 1.f / l : 0.f;
    for (int c = 0; c < ATT_DPL; c++) {
        int d = lane + 32 * c;
        if (d < a.D) out[qBase + d] = acc[c] * inv;
    }
    if (lse && lane == 0) lse[((long long) b * a.T + t) * a.Hq + h] = l > 0.f ? m + logf(l) : -CUDART_INF_F;
}

// delta[row] = Σ_d dOut·out over rows of D; one warp per row, ATT_WARPS rows per block.
extern "C" __global__ void attention_delta_f32(const float* out, const float* dOut, float* delta, long long rows, int D) {
    long long row = (long long) blockIdx.x * ATT_WARPS + (threadIdx.x >> 5);
    if (row >= rows) return;
    float s = 0.f;
    for (int d = threadIdx.x & 31; d < D; d += 32) s += out[row * D + d] * dOut[row * D + d];
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) delta[row] = s;
}

// dq = scale Σ_j ds_j k_j with p_j = e^{s_j − lse}, ds_j = p_j (dOut·v_j − Δ). Grid and shared as the forward,
// plus ATT_WARPS·D floats for dOut rows.
extern "C" __global__ void attention_bwd_dq_f32(const float* q, const float* k, const float* v, const int* seg, const float* dOut,
                                                const float* lse, const float* delta, float* dq, AttShape a) {
    extern __shared__ float sh[];
    float* Ks = sh;
    float* Vs = Ks + ATT_TILE * (a.D + 1);
    float* Qs = Vs + ATT_TILE * (a.D + 1);
    float* Gs = Qs + ATT_WARPS * a.D;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int b = blockIdx.z, h = blockIdx.y, hk = h / (a.Hq / a.Hkv);
    int t0 = blockIdx.x * ATT_WARPS, t = t0 + warp;
    bool live = t < a.T;
    int qpos = a.qOff + t;
    long long row = ((long long) b * a.T + t) * a.Hq + h, qBase = row * a.D;
    for (int d = lane; d < a.D; d += 32) {
        Qs[warp * a.D + d] = live ? q[qBase + d] : 0.f;
        Gs[warp * a.D + d] = live ? dOut[qBase + d] : 0.f;
    }
    float L = live ? lse[row] : -CUDART_INF_F, dl = live ? delta[row] : 0.f;
    int lastPos = a.qOff + min(a.T, t0 + ATT_WARPS) - 1;
    int jEnd = a.causal ? min(a.S, lastPos + 1) : a.S;
    int jBegin = a.window > 0 ? max(0, a.qOff + t0 - a.window + 1) : 0;
    long long kBase = (long long) b * a.S * a.Hkv * a.D + (long long) hk * a.D, kStep = (long long) a.Hkv * a.D;
    float acc[ATT_DPL];
    for (int c = 0; c < ATT_DPL; c++) acc[c] = 0.f;
    for (int j0 = jBegin; j0 < jEnd; j0 += ATT_TILE) {
        __syncthreads();
        load_tile(Ks, k, kBase, kStep, j0, a.S, a.D);
        load_tile(Vs, v, kBase, kStep, j0, a.S, a.D);
        __syncthreads();
        int j = j0 + lane;
        float ds = 0.f;
        if (live && L != -CUDART_INF_F && j < jEnd && visible(a, seg, b, qpos, j)) {
            float dot = 0.f, dp = 0.f;
            for (int d = 0; d < a.D; d++) {
                dot += Qs[warp * a.D + d] * Ks[lane * (a.D + 1) + d];
                dp += Gs[warp * a.D + d] * Vs[lane * (a.D + 1) + d];
            }
            float p = expf(dot * a.scale - L);
            ds = p * (dp - dl);
        }
        for (int jj = 0; jj < ATT_TILE; jj++) {
            float dj = __shfl_sync(0xffffffffu, ds, jj);
            if (dj == 0.f) continue;
            for (int c = 0; c < ATT_DPL; c++) {
                int d = lane + 32 * c;
                if (d < a.D) acc[c] += dj * Ks[jj * (a.D + 1) + d];
            }
        }
    }
    if (!live) return;
    for (int c = 0; c < ATT_DPL; c++) {
        int d = lane + 32 * c;
        if (d < a.D) dq[qBase + d] = acc[c] * a.scale;
    }
}

// dv_j = Σ_i p_ij dOut_i, dk_j = scale Σ_i ds_ij q_i over every query row i of the query heads sharing kv head hk.
// Grid (ceil(S / ATT_WARPS), Hkv, B). Shared: 2·ATT_TILE·(D+1) + 2·ATT_WARPS·D + 2·ATT_TILE floats.
extern "C" __global__ void attention_bwd_dkv_f32(const float* q, const float* k, const float* v, const int* seg, const float* dOut,
                                                 const float* lse, const float* delta, float* dk, float* dv, AttShape a) {
    extern __shared__ float sh[];
    float* Qs = sh;
    float* Gs = Qs + ATT_TILE * (a.D + 1);
    float* Ksh = Gs + ATT_TILE * (a.D + 1);
    float* Vsh = Ksh + ATT_WARPS * a.D;
    float* Ls = Vsh + ATT_WARPS * a.D;
    float* Dl = Ls + ATT_TILE;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int b = blockIdx.z, hk = blockIdx.y, group = a.Hq / a.Hkv;
    int j0k = blockIdx.x * ATT_WARPS, j = j0k + warp;
    bool live = j < a.S;
    long long kRow = ((long long) b * a.S + j) * a.Hkv + hk, kBase = kRow * a.D;
    for (int d = lane; d < a.D; d += 32) {
        Ksh[warp * a.D + d] = live ? k[kBase + d] : 0.f;
        Vsh[warp * a.D + d] = live ? v[kBase + d] : 0.f;
    }
    // Query rows that may see a key of this block: pos = qOff + i ≥ j (causal), pos − j < window.
    int jLast = min(a.S, j0k + ATT_WARPS) - 1;
    int iBegin = a.causal ? max(0, j0k - a.qOff) : 0;
    int iEnd = a.window > 0 ? min(a.T, jLast + a.window - a.qOff) : a.T;
    float accK[ATT_DPL], accV[ATT_DPL];
    for (int c = 0; c < ATT_DPL; c++) accK[c] = accV[c] = 0.f;
    for (int g = 0; g < group; g++) {
        int h = hk * group + g;
        long long qBase = (long long) b * a.T * a.Hq * a.D + (long long) h * a.D, qStep = (long long) a.Hq * a.D;
        for (int i0 = iBegin; i0 < iEnd; i0 += ATT_TILE) {
            __syncthreads();
            load_tile(Qs, q, qBase, qStep, i0, a.T, a.D);
            load_tile(Gs, dOut, qBase, qStep, i0, a.T, a.D);
            for (int r = threadIdx.x; r < ATT_TILE; r += blockDim.x) {
                long long row = ((long long) b * a.T + i0 + r) * a.Hq + h;
                bool in = i0 + r < a.T;
                Ls[r] = in ? lse[row] : -CUDART_INF_F;
                Dl[r] = in ? delta[row] : 0.f;
            }
            __syncthreads();
            int i = i0 + lane;
            float p = 0.f, ds = 0.f;
            if (live && i < iEnd && Ls[lane] != -CUDART_INF_F && visible(a, seg, b, a.qOff + i, j)) {
                float dot = 0.f, dp = 0.f;
                for (int d = 0; d < a.D; d++) {
                    dot += Qs[lane * (a.D + 1) + d] * Ksh[warp * a.D + d];
                    dp += Gs[lane * (a.D + 1) + d] * Vsh[warp * a.D + d];
                }
                p = expf(dot * a.scale - Ls[lane]);
                ds = p * (dp - Dl[lane]);
            }
            for (int ii = 0; ii < ATT_TILE; ii++) {
                float pi = __shfl_sync(0xffffffffu, p, ii), di = __shfl_sync(0xffffffffu, ds, ii);
                if (pi == 0.f && di == 0.f) continue;
                for (int c = 0; c < ATT_DPL; c++) {
                    int d = lane + 32 * c;
                    if (d < a.D) {
                        accV[c] += pi * Gs[ii * (a.D + 1) + d];
                        accK[c] += di * Qs[ii * (a.D + 1) + d];
                    }
                }
            }
        }
    }
    if (!live) return;
    for (int c = 0; c < ATT_DPL; c++) {
        int d = lane + 32 * c;
        if (d < a.D) {
            dk[kBase + d] = accK[c] * a.scale;
            dv[kBase + d] = accV[c];
        }
    }
}

// ---- Attention through matrix products (the backend's path for T > 1: prefill and training) ----------------
// The scores of one batch row b and query rows [i0, i0 + tc) are a buffer (Hq, tc, S) of raw dot products
// q·k written by cuBLAS; these two kernels turn them into probabilities (and their gradient) in place,
// one block per score row r = h·tc + (i − i0), with the same mask and GQA rules as the fused kernels.

// s ← p = e^{s·scale − lse} on visible keys, 0 elsewhere; lse[(b·T + i)·Hq + h] ← log Σ e^{s·scale}
// (−∞ and p = 0 when no key is visible). Grid Hq·tc blocks.
extern "C" __global__ void attention_probs_f32(float* s, float* lse, const int* seg, AttShape a, int b, int i0, int tc) {
    __shared__ float scratch[32];
    int r = blockIdx.x, h = r / tc, i = i0 + r % tc, qpos = a.qOff + i;
    float* row = s + (long long) r * a.S;
    int jBegin, jEnd;
    visible_range(a, qpos, &jBegin, &jEnd);
    float m = -CUDART_INF_F;
    for (int j = jBegin + threadIdx.x; j < jEnd; j += blockDim.x) {
        if (visible(a, seg, b, qpos, j)) m = fmaxf(m, row[j] * a.scale);
    }
    m = block_max(m, scratch);
    float sum = 0.f;
    if (m != -CUDART_INF_F) {
        for (int j = jBegin + threadIdx.x; j < jEnd; j += blockDim.x) {
            if (visible(a, seg, b, qpos, j)) sum += expf(row[j] * a.scale - m);
        }
    }
    sum = block_sum(sum, scratch);
    float L = sum > 0.f ? m + logf(sum) : -CUDART_INF_F;
    for (int j = threadIdx.x; j < a.S; j += blockDim.x) { // keys outside [jBegin, jEnd) are not read, only zeroed
        row[j] = (L != -CUDART_INF_F && j >= jBegin && j < jEnd && visible(a, seg, b, qpos, j)) ? expf(row[j] * a.scale - L) : 0.f;
    }
    if (lse && threadIdx.x == 0) lse[((long long) b * a.T + i) * a.Hq + h] = L;
}

// Backward of the same rows: s holds q·k and becomes p = e^{s·scale − lse}; dp holds dOut·v and becomes
// ds·scale = p (dOut·v − Δ)·scale (0 off the mask or where lse = −∞). Grid Hq·tc blocks.
extern "C" __global__ void attention_score_grads_f32(float* s, float* dp, const float* lse, const float* delta, const int* seg,
                                                     AttShape a, int b, int i0, int tc) {
    int r = blockIdx.x, h = r / tc, i = i0 + r % tc, qpos = a.qOff + i;
    long long q = ((long long) b * a.T + i) * a.Hq + h;
    float L = lse[q], dl = delta[q];
    float* srow = s + (long long) r * a.S;
    float* drow = dp + (long long) r * a.S;
    int jBegin, jEnd;
    visible_range(a, qpos, &jBegin, &jEnd);
    for (int j = threadIdx.x; j < a.S; j += blockDim.x) {
        float p = 0.f, ds = 0.f;
        if (L != -CUDART_INF_F && j >= jBegin && j < jEnd && visible(a, seg, b, qpos, j)) {
            p = expf(srow[j] * a.scale - L);
            ds = p * (drow[j] - dl) * a.scale;
        }
        srow[j] = p;
        drow[j] = ds;
    }
}
