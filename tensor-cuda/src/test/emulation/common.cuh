// Contract: a host stand-in for src/main/cuda/common.cuh that lets a kernel file built for the tensor cores run
// on the CPU, one fiber (ucontext, all on one OS thread, switched round-robin) per CUDA thread of a block (blocks run
// one after another), so its index arithmetic, masks, tiling and synchronisation can be checked without a GPU.
// Provides the CUDA spellings the kernels use (threadIdx, blockIdx, blockDim, __shared__ as one static instance per
// kernel, __syncthreads as a barrier of the block's fibers, __shfl_xor_sync as an exchange among the 32 lanes of a
// warp) and emulated_mma_bf16, which gathers the
// warp's fragments and multiplies them by the layouts of the PTX ISA (mma.m16n8k16, .bf16, F32 accumulators) —
// the layouts themselves are what a run on a GPU confirms. Used by run.sh in this folder, never by the product.
#pragma once
#include <ucontext.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <limits>
using std::max;
using std::min;

#define __device__
#define __global__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define CUDART_INF_F std::numeric_limits<float>::infinity()

struct dim3 { int x = 0, y = 0, z = 0; };
struct float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

extern dim3 threadIdx, blockIdx, blockDim;

// Hands the CPU back to the scheduler, which resumes the fibers in turn (defined by the harness).
void yield_fiber();

// A barrier of n fibers: the last to arrive goes on; the others yield until it has.
struct FiberBarrier {
    int n = 0, count = 0;
    long generation = 0;
    void arrive_and_wait() {
        long g = generation;
        if (++count == n) {
            count = 0;
            generation++;
            return;
        }
        while (generation == g) yield_fiber();
    }
};

extern FiberBarrier* blockBarrier;
extern FiberBarrier* warpBarriers[32];
extern float warpExchange[32][32];
extern unsigned warpFragments[32][32][6];

inline void __syncthreads() { blockBarrier->arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float x, int m) {
    int w = threadIdx.x >> 5, l = threadIdx.x & 31;
    warpExchange[w][l] = x;
    warpBarriers[w]->arrive_and_wait();
    float r = warpExchange[w][l ^ m];
    warpBarriers[w]->arrive_and_wait();
    return r;
}

inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }

inline float bf16_to_float(unsigned short h) { return __uint_as_float(((unsigned) h) << 16); }

inline unsigned short float_to_bf16(float f) {
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short) ((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short) (u >> 16);
}

// c (16×8) += A (16×16) · B (16×8) over the warp: lane 4g + t holds A's (g, 2t..), (g+8, 2t..), (g, 2t+8..),
// (g+8, 2t+8..) pairs, B's (2t.., g) and (2t+8.., g) pairs and C's (g, 2t..) and (g+8, 2t..) pairs.
inline void emulated_mma_bf16(float* c, const unsigned* a, unsigned b0, unsigned b1) {
    int w = threadIdx.x >> 5, l = threadIdx.x & 31;
    for (int i = 0; i < 4; i++) warpFragments[w][l][i] = a[i];
    warpFragments[w][l][4] = b0;
    warpFragments[w][l][5] = b1;
    warpBarriers[w]->arrive_and_wait();
    float A[16][16], B[16][8];
    for (int lane = 0; lane < 32; lane++) {
        int g = lane >> 2, t = lane & 3;
        const unsigned* f = warpFragments[w][lane];
        int rows[4] = {g, g + 8, g, g + 8}, cols[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
        for (int i = 0; i < 4; i++) {
            A[rows[i]][cols[i]] = bf16_to_float((unsigned short) (f[i] & 0xffff));
            A[rows[i]][cols[i] + 1] = bf16_to_float((unsigned short) (f[i] >> 16));
        }
        B[2 * t][g] = bf16_to_float((unsigned short) (f[4] & 0xffff));
        B[2 * t + 1][g] = bf16_to_float((unsigned short) (f[4] >> 16));
        B[2 * t + 8][g] = bf16_to_float((unsigned short) (f[5] & 0xffff));
        B[2 * t + 9][g] = bf16_to_float((unsigned short) (f[5] >> 16));
    }
    warpBarriers[w]->arrive_and_wait();
    int g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; i++) {
        int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
        float s = 0.f;
        for (int k = 0; k < 16; k++) s += A[row][k] * B[k][col];
        c[i] += s;
    }
}
