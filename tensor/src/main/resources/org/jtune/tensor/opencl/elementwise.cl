// Elementwise kernels over contiguous F32 (the backend densifies strided or 16-bit inputs first).
// Op codes are the ordinals of org.jtune.tensor.UnaryOp and BinaryOp; each case is that enum's
// scalar definition (apply, derivative) in float.

inline float sigm(float x) { return 1.0f / (1.0f + exp(-x)); }

inline float unary_apply(int op, float x) {
    switch (op) {
        case 0: return -x;                                                    // NEG
        case 1: return exp(x);                                                // EXP
        case 2: return log(x);                                                // LOG
        case 3: return sqrt(x);                                               // SQRT
        case 4: return 1.0f / sqrt(x);                                        // RSQRT
        case 5: return fabs(x);                                               // ABS
        case 6: return tanh(x);                                               // TANH
        case 7: return sigm(x);                                               // SIGMOID
        case 8: return x / (1.0f + exp(-x));                                  // SILU
        case 9: return 0.5f * x * (1.0f + tanh(0.7978845608028654f * (x + 0.044715f * x * x * x))); // GELU_TANH
        case 10: return 0.5f * x * (1.0f + erf(x * 0.7071067811865476f));     // GELU_ERF
        case 11: return x > 0.0f ? x : (isnan(x) ? x : 0.0f);                 // RELU
        case 12: return x * x;                                                // SQUARE
        default: return 1.0f / x;                                             // RECIPROCAL
    }
}

/** g·f'(s), s = x or the forward's output y (UnaryOp.gradientFromOutput). */
inline float unary_grad(int op, float s, float g) {
    switch (op) {
        case 0: return -g;
        case 1: return g * s;
        case 2: return g / s;
        case 3: return 0.5f * g / s;
        case 4: return g * (s * s * s) * -0.5f;
        case 5: return s > 0.0f ? g : s < 0.0f ? -g : s == 0.0f ? 0.0f : NAN;
        case 6: return g * (1.0f - s * s);
        case 7: return g * s * (1.0f - s);
        case 8: { float sg = sigm(s); return g * (sg * (1.0f + s * (1.0f - sg))); }
        case 9: {
            float t = tanh(0.7978845608028654f * (s + 0.044715f * s * s * s));
            return g * (0.5f * (1.0f + t) + 0.5f * s * (1.0f - t * t) * 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * s * s));
        }
        case 10: { // Φ(x) + x·φ(x) in double where the device has it: the sum cancels for x ≪ 0
            acc_t x = s;
            return (float) ((acc_t) g * (0.5 * (1.0 + erf(x * 0.7071067811865476)) + x * exp(-0.5 * x * x) * 0.3989422804014327));
        }
        case 11: return s > 0.0f ? g : 0.0f;
        case 12: return g * (2.0f * s);
        default: return g * (-s * s);
    }
}

__kernel void unary_f(int op, __global const uchar* x, long xo, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = unary_apply(op, CF(x, xo)[i]);
}

__kernel void unary_bwd(int op, __global const uchar* s, long so, __global const uchar* g, long go, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = unary_grad(op, CF(s, so)[i], CF(g, go)[i]);
}

__kernel void affine_f(__global const uchar* x, long xo, float a, float b, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = CF(x, xo)[i] * a + b;
}

__kernel void pow_f(__global const uchar* x, long xo, float p, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = (float) pow((acc_t) CF(x, xo)[i], (acc_t) p);
}

__kernel void pow_bwd(__global const uchar* x, long xo, float p, __global const uchar* g, long go, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = CF(g, go)[i] * (p * (float) pow((acc_t) CF(x, xo)[i], (acc_t) (p - 1.0f)));
}

__kernel void clamp_f(__global const uchar* x, long xo, float lo, float hi, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float v = CF(x, xo)[i];
    F(out, oo)[i] = isnan(v) ? v : (v < lo ? lo : (v > hi ? hi : v));
}

__kernel void binary_f(int op, __global const uchar* a, long ao, __global const uchar* b, long bo, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float x = CF(a, ao)[i], y = CF(b, bo)[i], r;
    switch (op) {
        case 0: r = x + y; break;
        case 1: r = x - y; break;
        case 2: r = x * y; break;
        case 3: r = x / y; break;
        case 4: r = (float) pow((acc_t) x, (acc_t) y); break;
        case 5: r = isnan(x) || isnan(y) ? NAN : x == y ? as_float(as_uint(x) & as_uint(y)) : (x > y ? x : y); break; // max(−0, +0) = +0
        default: r = isnan(x) || isnan(y) ? NAN : x == y ? as_float(as_uint(x) | as_uint(y)) : (x < y ? x : y); break; // min(−0, +0) = −0
    }
    F(out, oo)[i] = r;
}

__kernel void where_f(__global const uchar* c, long co, __global const uchar* a, long ao, __global const uchar* b, long bo,
                      __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i < n) F(out, oo)[i] = CF(c, co)[i] != 0.0f ? CF(a, ao)[i] : CF(b, bo)[i];
}

/** SwiGLU (Shazeer 2020): out = silu(gate)·up. */
__kernel void swiglu_f(__global const uchar* a, long ao, __global const uchar* b, long bo, __global uchar* out, long oo, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float x = CF(a, ao)[i];
    F(out, oo)[i] = x * sigm(x) * CF(b, bo)[i];
}

/** dGate = g·up·(σ + silu·(1 − σ)), dUp = g·silu(gate); flags say which are wanted. */
__kernel void swiglu_bwd(__global const uchar* a, long ao, __global const uchar* b, long bo, __global const uchar* g, long go,
                         __global uchar* da, long dao, __global uchar* du, long duo, int wantA, int wantU, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float x = CF(a, ao)[i], s = sigm(x), silu = x * s, gi = CF(g, go)[i];
    if (wantU) F(du, duo)[i] = gi * silu;
    if (wantA) F(da, dao)[i] = gi * CF(b, bo)[i] * (s + silu * (1.0f - s));
}

/** AdamW, the order of org.jtune.tensor.AdamWStep.apply (no FMA: bit-identical to the CPU). */
__kernel void adamw_f(__global uchar* p, long po, __global const uchar* g, long go, __global uchar* m, long mo, __global uchar* v, long vo,
                      float decay, float b1c, float b2, float b2c, float bias2Sqrt, float eps, float stepSize, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float gi = CF(g, go)[i], mi = F(m, mo)[i], vi = F(v, vo)[i];
    float mn = mi + (gi - mi) * b1c;
    float vn = vi * b2 + gi * b2c * gi;
    float denom = sqrt(vn) / bias2Sqrt + eps;
    F(m, mo)[i] = mn;
    F(v, vo)[i] = vn;
    F(p, po)[i] = F(p, po)[i] * decay - mn / denom * stepSize;
}

/** SGD, the order of org.jtune.tensor.SgdStep.apply; hasBuf = 0 without momentum. */
__kernel void sgd_f(__global uchar* p, long po, __global const uchar* g, long go, __global uchar* buf, long bo, int hasBuf,
                    float lr, float wd, float mom, float dampC, int nesterov, int first, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    float pi = F(p, po)[i];
    float d = CF(g, go)[i] + pi * wd;
    if (hasBuf) {
        float b = first ? d : F(buf, bo)[i] * mom + d * dampC;
        F(buf, bo)[i] = b;
        d = nesterov ? d + b * mom : b;
    }
    F(p, po)[i] = pi - d * lr;
}
