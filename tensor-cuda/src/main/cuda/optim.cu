// Contract: fused optimizer updates on contiguous F32 arrays, element by element in the exact order of
// AdamWStep#apply and SgdStep#apply with correctly rounded operations and no fused multiply-adds
// (__fmul_rn, __fadd_rn, __fdiv_rn, __fsqrt_rn), so the bits equal the CPU backend's. 1-D grid-stride.
#include "common.cuh"

extern "C" __global__ void adamw_f32(float* p, const float* g, float* m, float* v, long long n, float decay, float beta1c,
                                     float beta2, float beta2c, float bias2Sqrt, float eps, float stepSize) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = __fadd_rn(m[i], __fmul_rn(__fsub_rn(gi, m[i]), beta1c));
        float vi = __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(gi, beta2c), gi));
        float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bias2Sqrt), eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = __fsub_rn(__fmul_rn(p[i], decay), __fmul_rn(__fdiv_rn(mi, denom), stepSize));
    }
}

// buf may be null (no momentum).
extern "C" __global__ void sgd_f32(float* p, const float* g, float* buf, long long n, float lr, float wd, float momentum,
                                   float dampc, int nesterov, int first) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float d = __fadd_rn(g[i], __fmul_rn(p[i], wd));
        if (buf) {
            float b = first ? d : __fadd_rn(__fmul_rn(buf[i], momentum), __fmul_rn(d, dampc));
            buf[i] = b;
            d = nesterov ? __fadd_rn(d, __fmul_rn(b, momentum)) : b;
        }
        p[i] = __fsub_rn(p[i], __fmul_rn(d, lr));
    }
}
