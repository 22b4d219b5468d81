// Contract: shared device helpers of jtune's CUDA kernels. Element types are coded as in
// org.jtune.tensor.cuda.CudaDType (0 F32, 1 F16, 2 BF16, 3 I32); 16-bit floats are converted to F32
// for arithmetic and rounded to nearest even on store (the CPU backend's rule). StridedLayout is the
// by-value kernel parameter of the strided copy: only 64-bit fields, so its layout has no padding and
// the Java packer (CudaLayouts) writes it as 1 + 3·8 little-endian longs.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <math_constants.h>

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3
#define MAX_RANK 8

struct StridedLayout {
    long long rank;
    long long shape[MAX_RANK];
    long long a[MAX_RANK];   // strides of the first operand (the source), in elements
    long long b[MAX_RANK];   // strides of the second operand (the destination), in elements
};

__device__ __forceinline__ float bf16_to_float(unsigned short h) {
    return __uint_as_float(((unsigned int) h) << 16);
}

// Round to nearest even; NaN stays a quiet NaN (as Float.floatToRawIntBits-based Java conversion does).
__device__ __forceinline__ unsigned short float_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short) ((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short) (u >> 16);
}

__device__ __forceinline__ float load_float(const void* p, int dt, long long i) {
    switch (dt) {
        case DT_F16: return __half2float(((const __half*) p)[i]);
        case DT_BF16: return bf16_to_float(((const unsigned short*) p)[i]);
        case DT_I32: return (float) ((const int*) p)[i];
        default: return ((const float*) p)[i];
    }
}

__device__ __forceinline__ void store_float(void* p, int dt, long long i, float v) {
    switch (dt) {
        case DT_F16: ((__half*) p)[i] = __float2half_rn(v); break;
        case DT_BF16: ((unsigned short*) p)[i] = float_to_bf16(v); break;
        case DT_I32: ((int*) p)[i] = (int) v; break;
        default: ((float*) p)[i] = v;
    }
}

// Offsets (elements) of linear index i, in row-major order over shape, into both operands.
__device__ __forceinline__ void strided_offsets(long long i, const StridedLayout& L, long long* oa, long long* ob) {
    long long a = 0, b = 0;
    for (int d = (int) L.rank - 1; d >= 0; d--) {
        long long n = L.shape[d];
        long long k = i % n;
        i /= n;
        a += k * L.a[d];
        b += k * L.b[d];
    }
    *oa = a;
    *ob = b;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over a block of blockDim.x (a multiple of 32, ≤ 1024) threads, in a fixed order; every thread gets it.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float s = 0.f;
    for (int w = 0; w < warps; w++) s += scratch[w];
    return s;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float m = -CUDART_INF_F;
    for (int w = 0; w < warps; w++) m = fmaxf(m, scratch[w]);
    return m;
}
