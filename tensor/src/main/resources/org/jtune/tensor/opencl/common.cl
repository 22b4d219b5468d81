// Shared by every jtune OpenCL kernel (prepended to each family's source, built once per context).
// Tensors arrive as a byte buffer plus an element offset; ld/st convert the storage dtype (codes of
// OpenClBackend.dtypeCode) to and from F32, rounding to nearest even as org.jtune.tensor.Half does.
// Layouts (shape and strides of a view) arrive as a long buffer: [rank, shape[rank], strides[rank]].
// FP contraction is off so that a*b+c rounds twice, as the CPU kernels' plain Java float does.
#pragma OPENCL FP_CONTRACT OFF
#ifdef JT_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3
#define DT_I8 4
#define DT_U8 5

inline float ld(__global const uchar* p, int dt, long i) {
    switch (dt) {
        case DT_F32: return ((__global const float*) p)[i];
        case DT_F16: return vload_half((size_t) i, (__global const half*) p);
        case DT_BF16: return as_float(((uint) ((__global const ushort*) p)[i]) << 16);
        case DT_I32: return (float) ((__global const int*) p)[i];
        case DT_I8: return (float) ((__global const char*) p)[i];
        default: return (float) p[i];
    }
}

inline ushort to_bf16(float v) {
    uint x = as_uint(v);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (ushort) ((x >> 16) | 0x40u); // NaN stays a quiet NaN
    return (ushort) ((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline void st(__global uchar* p, int dt, long i, float v) {
    switch (dt) {
        case DT_F32: ((__global float*) p)[i] = v; break;
        case DT_F16: vstore_half_rte(v, (size_t) i, (__global half*) p); break;
        case DT_BF16: ((__global ushort*) p)[i] = to_bf16(v); break;
        case DT_I32: ((__global int*) p)[i] = convert_int_sat_rtz(v); break;        // Java (int) v
        default: p[i] = (uchar) convert_int_sat_rtz(v); break;                     // Java (byte) v
    }
}

/** Element offset of row-major linear index i in the view described by layout L. */
inline long loff(__global const long* L, long i) {
    int r = (int) L[0];
    long o = 0;
    for (int d = r - 1; d >= 0; d--) {
        long n = L[1 + d];
        long c = i % n;
        i /= n;
        o += c * L[1 + r + d];
    }
    return o;
}

#define F(p, o) ((__global float*) (p) + (o))
#define CF(p, o) ((__global const float*) (p) + (o))
#define CI(p, o) ((__global const int*) (p) + (o))
