// Contract: embedding kernels and rotary embedding. Ids/positions are contiguous I32; weight rows are
// read in their own dtype (dense, V × D); everything else is contiguous F32. An id outside [0, V) sets
// *bad to the smallest such position + 1 (the backend throws naming it). The embedding gradient adds
// repeated ids in position order: one thread per column looping positions (deterministic, no atomics).
#include "common.cuh"

// out[i][:] = weight[ids[i]][:]; grid (N), 256 threads over D.
extern "C" __global__ void embedding_rows(const void* weight, int wType, const int* ids, float* out, int D, int V, int* bad) {
    int id = ids[blockIdx.x];
    float* o = out + (long long) blockIdx.x * D;
    if (id < 0 || id >= V) {
        if (threadIdx.x == 0) atomicMin(bad, (int) blockIdx.x + 1);
        return;
    }
    for (int j = threadIdx.x; j < D; j += blockDim.x) o[j] = load_float(weight, wType, (long long) id * D + j);
}

// dW[ids[i]][j] += g[i][j] for i in order; ids < 0 are skipped, ids ≥ V set *bad. Grid-stride over columns.
extern "C" __global__ void embedding_backward_f32(const float* g, const int* ids, float* dW, int N, int D, int V, int* bad) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < D; j += gridDim.x * blockDim.x) {
        for (int i = 0; i < N; i++) {
            int id = ids[i];
            if (id < 0) continue;
            if (id >= V) { if (j == 0) atomicMin(bad, i + 1); continue; }
            dW[(long long) id * D + j] += g[(long long) i * D + j];
        }
    }
}

// RoPE (Su et al. 2021), rotate_half layout: x (B, T, H, D), positions (B, T), invFreq (D/2);
// θ = pos·invFreq[i], negated when inverse. Grid-stride over B·T·H·(D/2) pairs.
extern "C" __global__ void rope_f32(const float* x, const int* pos, const float* invFreq, float* out, long long pairs, int H,
                                    int D, int inverse) {
    int half = D / 2;
    for (long long p = blockIdx.x * (long long) blockDim.x + threadIdx.x; p < pairs; p += (long long) gridDim.x * blockDim.x) {
        int i = (int) (p % half);
        long long row = p / half;            // (b·T + t)·H + h
        long long bt = row / H;
        // The angle in double, as the CPU backend: a float product is off by pos·2⁻²⁴ rad, 6e-3 at 100k.
        double theta = (double) pos[bt] * (double) invFreq[i], sd, cd;
        sincos(theta, &sd, &cd);
        float s = (float) sd, c = (float) cd;
        if (inverse) s = -s;
        long long base = row * D;
        float a = x[base + i], b = x[base + i + half];
        out[base + i] = a * c - b * s;
        out[base + i + half] = b * c + a * s;
    }
}
