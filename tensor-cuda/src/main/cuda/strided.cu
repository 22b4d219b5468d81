// Contract: layout kernels. copy_strided reads n elements of any dtype through the source strides and
// writes them, converted, through the destination strides (both in StridedLayout); it densifies views
// (permuted, narrowed, stepped, expanded) and converts dtypes, so the other kernels see contiguous F32.
// fill_strided writes one value through the destination strides. Launch: 1-D grid-stride, 256 threads.
#include "common.cuh"

extern "C" __global__ void copy_strided(const void* src, int srcType, long long srcOff, void* dst, int dstType,
                                        long long dstOff, long long n, StridedLayout L) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long oa, ob;
        strided_offsets(i, L, &oa, &ob);
        if (srcType == DT_I32 && dstType == DT_I32) {
            ((int*) dst)[dstOff + ob] = ((const int*) src)[srcOff + oa];
        } else if (srcType == dstType && srcType != DT_F32) {
            ((unsigned short*) dst)[dstOff + ob] = ((const unsigned short*) src)[srcOff + oa];
        } else {
            store_float(dst, dstType, dstOff + ob, load_float(src, srcType, srcOff + oa));
        }
    }
}

extern "C" __global__ void fill_strided(void* dst, int dstType, long long dstOff, long long n, float value, StridedLayout L) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long oa, ob;
        strided_offsets(i, L, &oa, &ob);
        store_float(dst, dstType, dstOff + ob, value);
    }
}
