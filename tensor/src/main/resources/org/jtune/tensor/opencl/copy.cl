// Copies and fills over any layout. copy_convert: dst (layout Ld, dtype ddt) <- src (layout Ls, dtype sdt),
// element i of the shared shape per work-item. copy_raw_*: the same bits moved without conversion (same
// dtype: I32 ids above 2^24 and NaN payloads survive). fill_view: every element of a view set to v.
__kernel void copy_convert(__global const uchar* src, long so, int sdt, __global const long* Ls,
                           __global uchar* dst, long dso, int ddt, __global const long* Ld, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    st(dst, ddt, dso + loff(Ld, i), ld(src, sdt, so + loff(Ls, i)));
}

__kernel void copy_raw_4(__global const uint* src, long so, __global const long* Ls,
                         __global uint* dst, long dso, __global const long* Ld, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    dst[dso + loff(Ld, i)] = src[so + loff(Ls, i)];
}

__kernel void copy_raw_2(__global const ushort* src, long so, __global const long* Ls,
                         __global ushort* dst, long dso, __global const long* Ld, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    dst[dso + loff(Ld, i)] = src[so + loff(Ls, i)];
}

__kernel void copy_raw_1(__global const uchar* src, long so, __global const long* Ls,
                         __global uchar* dst, long dso, __global const long* Ld, long n) {
    long i = get_global_id(0);
    if (i >= n) return;
    dst[dso + loff(Ld, i)] = src[so + loff(Ls, i)];
}

__kernel void fill_view(__global uchar* dst, long dso, int ddt, __global const long* Ld, long n, float v) {
    long i = get_global_id(0);
    if (i >= n) return;
    st(dst, ddt, dso + loff(Ld, i), v);
}
