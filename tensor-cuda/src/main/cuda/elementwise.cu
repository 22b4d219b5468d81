// Contract: elementwise kernels on contiguous F32 arrays of n elements (the backend densifies views and
// broadcasts first). Op codes are the ordinals of org.jtune.tensor.UnaryOp and BinaryOp; the maths
// is theirs (UnaryOp#apply, UnaryOp#derivative) in F32. Outputs may alias the first input (in place).
// Launch: 1-D grid-stride, 256 threads per block.
#include "common.cuh"

#define GRID_STRIDE(i, n) for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < (n); i += (long long) gridDim.x * blockDim.x)

// UnaryOp ordinals.
enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_RSQRT, U_ABS, U_TANH, U_SIGMOID, U_SILU, U_GELU_TANH, U_GELU_ERF, U_RELU, U_SQUARE, U_RECIPROCAL };
// BinaryOp ordinals.
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAX, B_MIN };

#define SQRT_2_OVER_PI 0.7978845608028654f

__device__ __forceinline__ float sigmoidf(float x) { return 1.f / (1.f + expf(-x)); }

__device__ float unary_apply(int op, float x) {
    switch (op) {
        case U_NEG: return -x;
        case U_EXP: return expf(x);
        case U_LOG: return logf(x);
        case U_SQRT: return sqrtf(x);
        case U_RSQRT: return 1.f / sqrtf(x);
        case U_ABS: return fabsf(x);
        case U_TANH: return tanhf(x);
        case U_SIGMOID: return sigmoidf(x);
        case U_SILU: return x / (1.f + expf(-x));
        case U_GELU_TANH: return 0.5f * x * (1.f + tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
        case U_GELU_ERF: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
        case U_RELU: return x > 0.f ? x : (isnan(x) ? x : 0.f);
        case U_SQUARE: return x * x;
        default: return 1.f / x;
    }
}

// f'(s), s = x or the forward's output y (UnaryOp#gradientFromOutput: EXP, SQRT, RSQRT, TANH, SIGMOID, RECIPROCAL).
__device__ float unary_derivative(int op, float s) {
    switch (op) {
        case U_NEG: return -1.f;
        case U_EXP: return s;
        case U_LOG: return 1.f / s;
        case U_SQRT: return 0.5f / s;
        case U_RSQRT: return -0.5f * s * s * s;
        case U_ABS: return s > 0.f ? 1.f : s < 0.f ? -1.f : s == 0.f ? 0.f : CUDART_NAN_F;
        case U_TANH: return 1.f - s * s;
        case U_SIGMOID: return s * (1.f - s);
        case U_SILU: { float sg = sigmoidf(s); return sg * (1.f + s * (1.f - sg)); }
        case U_GELU_TANH: {
            float t = tanhf(SQRT_2_OVER_PI * (s + 0.044715f * s * s * s));
            return 0.5f * (1.f + t) + 0.5f * s * (1.f - t * t) * SQRT_2_OVER_PI * (1.f + 3.f * 0.044715f * s * s);
        }
        case U_GELU_ERF: { // Φ(s) + s·φ(s) in double, as the CPU: for s ≪ 0 the two terms cancel
            double d = s;
            return (float) (0.5 * (1.0 + erf(d * 0.7071067811865475)) + d * exp(-0.5 * d * d) * 0.3989422804014327);
        }
        case U_RELU: return s > 0.f ? 1.f : 0.f;
        case U_SQUARE: return 2.f * s;
        default: return -s * s;
    }
}

extern "C" __global__ void unary_f32(const float* x, float* out, long long n, int op) {
    GRID_STRIDE(i, n) out[i] = unary_apply(op, x[i]);
}

extern "C" __global__ void unary_backward_f32(const float* saved, const float* g, float* out, long long n, int op) {
    GRID_STRIDE(i, n) out[i] = g[i] * unary_derivative(op, saved[i]);
}

extern "C" __global__ void affine_f32(const float* x, float* out, long long n, float a, float b) {
    GRID_STRIDE(i, n) out[i] = x[i] * a + b;
}

extern "C" __global__ void pow_f32(const float* x, float* out, long long n, float p) {
    GRID_STRIDE(i, n) out[i] = powf(x[i], p);
}

extern "C" __global__ void pow_backward_f32(const float* x, const float* g, float* out, long long n, float p) {
    GRID_STRIDE(i, n) out[i] = g[i] * p * powf(x[i], p - 1.f);
}

extern "C" __global__ void clamp_f32(const float* x, float* out, long long n, float lo, float hi) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        out[i] = isnan(v) ? v : fminf(fmaxf(v, lo), hi);
    }
}

extern "C" __global__ void binary_f32(const float* a, const float* b, float* out, long long n, int op) {
    GRID_STRIDE(i, n) {
        float x = a[i], y = b[i], r;
        switch (op) {
            case B_ADD: r = x + y; break;
            case B_SUB: r = x - y; break;
            case B_MUL: r = x * y; break;
            case B_DIV: r = x / y; break;
            case B_POW: r = powf(x, y); break;
            case B_MAX: r = (isnan(x) || isnan(y)) ? CUDART_NAN_F : fmaxf(x, y); break;
            default: r = (isnan(x) || isnan(y)) ? CUDART_NAN_F : fminf(x, y); break;
        }
        out[i] = r;
    }
}

extern "C" __global__ void where_f32(const float* cond, const float* a, const float* b, float* out, long long n) {
    GRID_STRIDE(i, n) out[i] = cond[i] != 0.f ? a[i] : b[i];
}

// SwiGLU (Shazeer 2020): out = silu(gate)·up.
extern "C" __global__ void swiglu_f32(const float* gate, const float* up, float* out, long long n) {
    GRID_STRIDE(i, n) {
        float x = gate[i];
        out[i] = x / (1.f + expf(-x)) * up[i];
    }
}

// dGate = g·up·σ(x)(1 + x(1 − σ(x))), dUp = g·silu(x); either output may be null.
extern "C" __global__ void swiglu_backward_f32(const float* gate, const float* up, const float* g, float* dGate, float* dUp,
                                               long long n) {
    GRID_STRIDE(i, n) {
        float x = gate[i], s = sigmoidf(x);
        if (dGate) dGate[i] = g[i] * up[i] * s * (1.f + x * (1.f - s));
        if (dUp) dUp[i] = g[i] * x * s;
    }
}
