// GEMM: out (M, N) [+]= a (M, K) · b (K, N) for one batch entry, any strides (a transposed weight is
// read in place), a and b in any floating storage dtype converted on load, F32 accumulation. Tiled
// in local memory (TS×TS tiles of a and b per work-group of TS×TS work-items, one output each),
// the K loop in tile order: a fixed summation order for every output element.
#define TS 16

__kernel __attribute__((reqd_work_group_size(TS, TS, 1)))
void gemm_tiled(__global const uchar* a, long ao, int adt, long as0, long as1,
                __global const uchar* b, long bo, int bdt, long bs0, long bs1,
                __global uchar* out, long oo, long os0, long os1,
                int m, int n, int k, int accumulate) {
    __local float ta[TS][TS + 1];
    __local float tb[TS][TS + 1];
    int lr = get_local_id(1), lc = get_local_id(0);
    int row = get_group_id(1) * TS + lr, col = get_group_id(0) * TS + lc;
    float acc = 0.0f;
    for (int t = 0; t < k; t += TS) {
        int ka = t + lc, kb = t + lr;
        ta[lr][lc] = (row < m && ka < k) ? ld(a, adt, ao + row * as0 + ka * as1) : 0.0f;
        tb[lr][lc] = (kb < k && col < n) ? ld(b, bdt, bo + kb * bs0 + col * bs1) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = 0; i < TS; i++) acc += ta[lr][i] * tb[i][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < m && col < n) {
        __global float* o = F(out, oo) + row * os0 + col * os1;
        *o = accumulate ? *o + acc : acc;
    }
}
