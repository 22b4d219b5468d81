// Contract: dequantizing GEMV for batch-1 decode, y (rows) = W (rows × cols, GGML blocks, row-major,
// cols a multiple of 32) · x (cols, F32). Q8_0 (ggml block_q8_0, 34 bytes): F16 d, 32 int8, w = q·d.
// Q4_0 (block_q4_0, 18 bytes): F16 d, 16 bytes, low nibbles weights 0..15, high 16..31, w = (q − 8)·d.
// One warp per row (QGEMV_WARPS rows per block), lanes stride over the row's blocks; partial sums are
// combined by a fixed shuffle tree. Also the BF16 GEMV (dense row-major weight) for unquantized decode.
#include "common.cuh"

#define QGEMV_WARPS 8

__device__ __forceinline__ float half_at(const unsigned char* p) {
    return __half2float(*(const __half*) p);
}

extern "C" __global__ void gemv_q8_0(const unsigned char* w, const float* x, float* y, int rows, int cols) {
    int row = blockIdx.x * QGEMV_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    int blocks = cols / 32;
    const unsigned char* wr = w + (long long) row * blocks * 34;
    float s = 0.f;
    for (int bk = lane; bk < blocks; bk += 32) {
        const unsigned char* blk = wr + bk * 34;
        const signed char* qs = (const signed char*) (blk + 2);
        const float* xb = x + bk * 32;
        float dot = 0.f;
        for (int j = 0; j < 32; j++) dot += (float) qs[j] * xb[j];
        s += dot * half_at(blk);
    }
    s = warp_sum(s);
    if (lane == 0) y[row] = s;
}

extern "C" __global__ void gemv_q4_0(const unsigned char* w, const float* x, float* y, int rows, int cols) {
    int row = blockIdx.x * QGEMV_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    int blocks = cols / 32;
    const unsigned char* wr = w + (long long) row * blocks * 18;
    float s = 0.f;
    for (int bk = lane; bk < blocks; bk += 32) {
        const unsigned char* blk = wr + bk * 18;
        const unsigned char* qs = blk + 2;
        const float* xb = x + bk * 32;
        float dot = 0.f;
        for (int j = 0; j < 16; j++) {
            dot += (float) ((int) (qs[j] & 0xF) - 8) * xb[j];
            dot += (float) ((int) (qs[j] >> 4) - 8) * xb[j + 16];
        }
        s += dot * half_at(blk);
    }
    s = warp_sum(s);
    if (lane == 0) y[row] = s;
}

// y = W (rows × cols, BF16 row-major) · x (F32): 16-byte loads of 8 weights per lane step.
extern "C" __global__ void gemv_bf16(const unsigned short* w, const float* x, float* y, int rows, int cols) {
    int row = blockIdx.x * QGEMV_WARPS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= rows) return;
    const unsigned short* wr = w + (long long) row * cols;
    float s = 0.f;
    int vec = (cols % 8 == 0) ? cols / 8 : 0;
    for (int c = lane; c < vec; c += 32) {
        uint4 u = ((const uint4*) wr)[c];
        const unsigned int parts[4] = {u.x, u.y, u.z, u.w};
        for (int e = 0; e < 4; e++) {
            s += bf16_to_float((unsigned short) (parts[e] & 0xffffu)) * x[c * 8 + 2 * e];
            s += bf16_to_float((unsigned short) (parts[e] >> 16)) * x[c * 8 + 2 * e + 1];
        }
    }
    for (int j = vec * 8 + lane; j < cols; j += 32) s += bf16_to_float(wr[j]) * x[j];
    s = warp_sum(s);
    if (lane == 0) y[row] = s;
}
