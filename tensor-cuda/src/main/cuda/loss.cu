// Contract: cross-entropy kernels on contiguous F32 logits (rows × V) with I32 targets; a row whose
// target equals ignoreIndex gets loss 0, lse 0 and a zero gradient row. A target outside [0, V) that is
// not ignored sets *bad to the smallest such row + 1 (atomicMin; the backend reads it and throws naming
// the row) and that row's outputs are left as zeros. One block of 256 threads per row, fixed-order sums.
#include "common.cuh"

__device__ __forceinline__ bool target_ok(int t, int ignore, int V, int* bad) {
    if (t == ignore) return false;
    if (t < 0 || t >= V) {
        if (threadIdx.x == 0) atomicMin(bad, (int) blockIdx.x + 1);
        return false;
    }
    return true;
}

__device__ __forceinline__ float row_lse(const float* xr, int V, float* scratch) {
    float m = -CUDART_INF_F;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(xr[j] - m);
    return m + logf(block_sum(s, scratch));
}

// losses[r] = lse − logits[r][t]; lse (nullable) receives it.
extern "C" __global__ void cross_entropy_f32(const float* logits, const int* targets, int ignore, float* losses, float* lse,
                                             int V, int* bad) {
    __shared__ float scratch[32];
    int t = targets[blockIdx.x];
    if (!target_ok(t, ignore, V, bad)) {
        if (threadIdx.x == 0) { losses[blockIdx.x] = 0.f; if (lse) lse[blockIdx.x] = 0.f; }
        return;
    }
    const float* xr = logits + (long long) blockIdx.x * V;
    float l = row_lse(xr, V, scratch);
    if (threadIdx.x == 0) {
        losses[blockIdx.x] = l - xr[t];
        if (lse) lse[blockIdx.x] = l;
    }
}

// grad[r][j] = (e^{x − lse} − [j = t])·scale; grad may be logits (in place).
extern "C" __global__ void cross_entropy_backward_f32(const float* logits, const int* targets, int ignore, const float* lse,
                                                      float scale, float* grad, int V, int* bad) {
    int t = targets[blockIdx.x];
    long long base = (long long) blockIdx.x * V;
    if (!target_ok(t, ignore, V, bad)) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) grad[base + j] = 0.f;
        return;
    }
    float l = lse[blockIdx.x];
    for (int j = threadIdx.x; j < V; j += blockDim.x) grad[base + j] = (expf(logits[base + j] - l) - (j == t ? 1.f : 0.f)) * scale;
}

// Both in one pass over each row: the row's lse is complete (a block barrier) before grad overwrites logits.
extern "C" __global__ void cross_entropy_with_grad_f32(const float* logits, const int* targets, int ignore, float scale,
                                                       float* losses, float* grad, int V, int* bad) {
    __shared__ float scratch[32];
    int t = targets[blockIdx.x];
    long long base = (long long) blockIdx.x * V;
    if (!target_ok(t, ignore, V, bad)) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) grad[base + j] = 0.f;
        if (threadIdx.x == 0) losses[blockIdx.x] = 0.f;
        return;
    }
    float l = row_lse(logits + base, V, scratch);
    float xt = logits[base + t];
    __syncthreads();
    if (threadIdx.x == 0) losses[blockIdx.x] = l - xt;
    for (int j = threadIdx.x; j < V; j += blockDim.x) grad[base + j] = (expf(logits[base + j] - l) - (j == t ? 1.f : 0.f)) * scale;
}
