// Contract: attention on the tensor cores for the backend's mixed precision (autocast): forward and backward
// of scaled-dot-product attention, FlashAttention-2 style (Dao 2023) — scores never leave the chip. Inputs are
// contiguous F32 as in attention.cu (q (B, T, Hq, D), k and v (B, S, Hkv, D), lse and delta (B, T, Hq); outputs
// likewise F32); q, k, v, dOut, the probabilities P and the score gradients dS are rounded to BF16 (nearest
// even) as they enter the products, which accumulate in F32 (mma.sync m16n8k16); the softmax, its running
// max and sum, lse and delta are F32. Same mask rules (attention_mask.cuh) and the same lse as the F32 kernels
// (natural log; −∞ for a row that sees no key, whose output and dq are 0). Head dim D (64) only; every row
// pointer 16-byte aligned (the backend copies a tensor that is not).
// Fragment layouts (PTX ISA, mma.m16n8k16, .bf16): lane = 4·g + t. A (16×16, row-major): registers 0..3 hold the
// pairs (row g, cols 2t..2t+1), (row g+8, same cols), (row g, cols 2t+8..), (row g+8, cols 2t+8..). B (16×8,
// "col": element (k, n) read from a buffer laid out n-major): registers 0, 1 hold rows 2t..2t+1 and 2t+8.. of
// column g. C (16×8, F32): c0, c1 at (row g, cols 2t, 2t+1), c2, c3 at row g+8. So the C tiles of two adjacent
// 8-column score blocks are, packed to BF16, the A operand of the next product over those 16 keys.
// Launch: FA_WARPS·32 threads, static shared memory only. Forward and dq: grid (⌈T/64⌉, Hq, B), each warp owns 16
// query rows and streams tiles of KT keys. dk/dv: grid (⌈S/64⌉, Hkv, B), each warp owns 16 key rows and streams
// tiles of QT query rows of every query head of its kv head (GQA sums in registers: deterministic).
#include "common.cuh"
#include "attention_mask.cuh"

#define FA_WARPS 4
#define FA_ROWS 16
#define FA_BLOCK (FA_WARPS * FA_ROWS)
#define FA_PAD 8
#define FA_LOG2E 1.4426950408889634f
#define FA_LN2 0.6931471805599453f
#define FULL_MASK 0xffffffffu

typedef unsigned short bf16_t;

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    return (unsigned) float_to_bf16(lo) | ((unsigned) float_to_bf16(hi) << 16);
}

// c (16×8 F32) += a (16×16 BF16) · b (16×8 BF16).
__device__ __forceinline__ void mma_bf16(float* c, const unsigned* a, unsigned b0, unsigned b1) {
#ifdef FA_EMULATION  // the host emulation of src/test/emulation (one std::thread per lane)
    emulated_mma_bf16(c, a, b0, b1);
#else
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

__device__ __forceinline__ unsigned ld32(const bf16_t* p) {
    return *reinterpret_cast<const unsigned*>(p);
}

// The A operand of the 16×16 block at (r0, c0) of a row-major shared matrix with row length ld.
__device__ __forceinline__ void load_a(unsigned* a, const bf16_t* m, int ld, int r0, int c0, int g, int t) {
    const bf16_t* p = m + (r0 + g) * ld + c0 + 2 * t;
    a[0] = ld32(p);
    a[1] = ld32(p + 8 * ld);
    a[2] = ld32(p + 8);
    a[3] = ld32(p + 8 * ld + 8);
}

// The B operand of the 16(k)×8(n) block whose element (k, n) is m[(n0 + n)·ld + k0 + k].
__device__ __forceinline__ void load_b(unsigned* b, const bf16_t* m, int ld, int n0, int k0, int g, int t) {
    const bf16_t* p = m + (n0 + g) * ld + k0 + 2 * t;
    b[0] = ld32(p);
    b[1] = ld32(p + 8);
}

// Two adjacent F32 values of global row-major data as a BF16 pair (0 when the row is past the end).
__device__ __forceinline__ unsigned ld_pair(const float* src, long long off, bool live) {
    if (!live) return 0u;
    float2 v = *reinterpret_cast<const float2*>(src + off);
    return pack_bf16(v.x, v.y);
}

// The A operands of a warp's 16 rows (row pointers base0 = row g, base1 = row g + 8) over all D columns.
template <int D>
__device__ __forceinline__ void load_rows_a(unsigned (*a)[4], const float* src, long long base0, long long base1, bool live0,
                                            bool live1, int t) {
#pragma unroll
    for (int ks = 0; ks < D / 16; ks++) {
        int c = ks * 16 + 2 * t;
        a[ks][0] = ld_pair(src, base0 + c, live0);
        a[ks][1] = ld_pair(src, base1 + c, live1);
        a[ks][2] = ld_pair(src, base0 + c + 8, live0);
        a[ks][3] = ld_pair(src, base1 + c + 8, live1);
    }
}

// Rows [r0, r0 + R) (row step `step`, D columns from `base`) of src as BF16 into shared memory, row-major
// dst[R][D + FA_PAD] and/or transposed dstT[D][R + FA_PAD] (either may be null); rows past `rows` are 0.
template <int R, int D>
__device__ __forceinline__ void load_tile(bf16_t* dst, bf16_t* dstT, const float* src, long long base, long long step, int r0,
                                          int rows) {
    for (int e = threadIdx.x; e < R * D / 4; e += blockDim.x) {
        int r = e / (D / 4), c = (e % (D / 4)) * 4;
        float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
        if (r0 + r < rows) v = *reinterpret_cast<const float4*>(src + base + (long long) (r0 + r) * step + c);
        if (dst) {
            unsigned* p = reinterpret_cast<unsigned*>(dst + r * (D + FA_PAD) + c);
            p[0] = pack_bf16(v.x, v.y);
            p[1] = pack_bf16(v.z, v.w);
        }
        if (dstT) {
            dstT[(c + 0) * (R + FA_PAD) + r] = float_to_bf16(v.x);
            dstT[(c + 1) * (R + FA_PAD) + r] = float_to_bf16(v.y);
            dstT[(c + 2) * (R + FA_PAD) + r] = float_to_bf16(v.z);
            dstT[(c + 3) * (R + FA_PAD) + r] = float_to_bf16(v.w);
        }
    }
}

__device__ __forceinline__ float quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(FULL_MASK, x, 1));
    return fmaxf(x, __shfl_xor_sync(FULL_MASK, x, 2));
}

__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(FULL_MASK, x, 1);
    return x + __shfl_xor_sync(FULL_MASK, x, 2);
}

// The key range [begin, end) any query row in [i0, i1) (row indices, clipped to T) may see.
__device__ __forceinline__ void key_range(const AttShape& a, int i0, int i1, int* begin, int* end) {
    int last = a.qOff + min(a.T, i1) - 1;
    *end = a.causal ? max(0, min(a.S, last + 1)) : a.S;
    *begin = a.window > 0 ? max(0, a.qOff + i0 - a.window + 1) : 0;
}

// Whether every key of [j0, j0 + keys) is visible to every query row of [i0, i0 + rows), all of them live.
__device__ __forceinline__ bool tile_visible(const AttShape& a, const int* seg, int i0, int rows, int j0, int keys) {
    return seg == nullptr && i0 + rows <= a.T && j0 + keys <= a.S && (!a.causal || j0 + keys - 1 <= a.qOff + i0)
            && (a.window <= 0 || a.qOff + i0 + rows - 1 - j0 < a.window);
}

// The A operand over 16 keys (k-step kk) made of the C tiles 2·kk and 2·kk + 1 of a row block, rounded to BF16.
__device__ __forceinline__ void pack_a(unsigned* pa, const float (*c)[4], int kk) {
    pa[0] = pack_bf16(c[2 * kk][0], c[2 * kk][1]);
    pa[1] = pack_bf16(c[2 * kk][2], c[2 * kk][3]);
    pa[2] = pack_bf16(c[2 * kk + 1][0], c[2 * kk + 1][1]);
    pa[3] = pack_bf16(c[2 * kk + 1][2], c[2 * kk + 1][3]);
}

// Scores of a warp's 16 query rows (positions pos0 = row g, pos1 = row g + 8) against keys j0 + [0, 8·NT), scaled
// to log2 units, −∞ where masked. `full`: every key of the tile is visible to every live row (no checks needed).
template <int NT>
__device__ __forceinline__ void mask_scores(float (*s)[4], const AttShape& a, const int* seg, int b, int j0, int pos0, int pos1,
                                            bool live0, bool live1, bool full, float sc, int t) {
#pragma unroll
    for (int nt = 0; nt < NT; nt++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            int j = j0 + nt * 8 + 2 * t + (e & 1);
            bool live = e < 2 ? live0 : live1;
            int pos = e < 2 ? pos0 : pos1;
            bool ok = full || (live && visible(a, seg, b, pos, j));
            s[nt][e] = ok ? s[nt][e] * sc : -CUDART_INF_F;
        }
    }
}

// Forward: out = softmax(scale·q·kᵀ + mask)·v and lse per row.
template <int D, int KT>
__device__ __forceinline__ void flash_fwd(const float* q, const float* k, const float* v, const int* seg, float* out, float* lse, AttShape a) {
    __shared__ __align__(16) bf16_t Ks[KT * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Vt[D * (KT + FA_PAD)];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int b = blockIdx.z, h = blockIdx.y, hk = h / (a.Hq / a.Hkv);
    const int tb = blockIdx.x * FA_BLOCK, tw = tb + warp * FA_ROWS, i0 = tw + g, i1 = i0 + 8;
    const bool live0 = i0 < a.T, live1 = i1 < a.T;
    const long long qStep = (long long) a.Hq * D;
    const long long qb0 = ((long long) b * a.T + i0) * qStep + (long long) h * D, qb1 = qb0 + 8 * qStep;
    unsigned qa[D / 16][4];
    load_rows_a<D>(qa, q, qb0, qb1, live0, live1, t);
    float o[D / 8][4];
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) o[dn][0] = o[dn][1] = o[dn][2] = o[dn][3] = 0.f;
    float m0 = -CUDART_INF_F, m1 = -CUDART_INF_F, l0 = 0.f, l1 = 0.f;
    const float sc = a.scale * FA_LOG2E;
    int jBegin, jEnd, wBegin, wEnd;
    key_range(a, tb, tb + FA_BLOCK, &jBegin, &jEnd);
    key_range(a, tw, tw + FA_ROWS, &wBegin, &wEnd);
    const bool warpLive = tw < a.T;
    const long long kBase = (long long) b * a.S * a.Hkv * D + (long long) hk * D, kStep = (long long) a.Hkv * D;
    for (int j0 = jBegin; j0 < jEnd; j0 += KT) {
        __syncthreads();
        load_tile<KT, D>(Ks, nullptr, k, kBase, kStep, j0, a.S);
        load_tile<KT, D>(nullptr, Vt, v, kBase, kStep, j0, a.S);
        __syncthreads();
        if (!warpLive || j0 >= wEnd || j0 + KT <= wBegin) continue;
        float s[KT / 8][4];
#pragma unroll
        for (int nt = 0; nt < KT / 8; nt++) {
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++) {
                unsigned bb[2];
                load_b(bb, Ks, D + FA_PAD, nt * 8, ks * 16, g, t);
                mma_bf16(s[nt], qa[ks], bb[0], bb[1]);
            }
        }
        const bool full = tile_visible(a, seg, tw, FA_ROWS, j0, KT);
        mask_scores<KT / 8>(s, a, seg, b, j0, a.qOff + i0, a.qOff + i1, live0, live1, full, sc, t);
        float mx0 = m0, mx1 = m1;
#pragma unroll
        for (int nt = 0; nt < KT / 8; nt++) {
            mx0 = fmaxf(mx0, fmaxf(s[nt][0], s[nt][1]));
            mx1 = fmaxf(mx1, fmaxf(s[nt][2], s[nt][3]));
        }
        mx0 = quad_max(mx0);
        mx1 = quad_max(mx1);
        // A row that has seen no key yet keeps m = −∞: its probabilities and corrections are 0.
        const float base0 = mx0 == -CUDART_INF_F ? 0.f : mx0, base1 = mx1 == -CUDART_INF_F ? 0.f : mx1;
        const float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);
        m0 = mx0;
        m1 = mx1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int dn = 0; dn < D / 8; dn++) {
            o[dn][0] *= c0;
            o[dn][1] *= c0;
            o[dn][2] *= c1;
            o[dn][3] *= c1;
        }
#pragma unroll
        for (int nt = 0; nt < KT / 8; nt++) {
            s[nt][0] = exp2f(s[nt][0] - base0);
            s[nt][1] = exp2f(s[nt][1] - base0);
            s[nt][2] = exp2f(s[nt][2] - base1);
            s[nt][3] = exp2f(s[nt][3] - base1);
            l0 += s[nt][0] + s[nt][1];
            l1 += s[nt][2] + s[nt][3];
        }
#pragma unroll
        for (int kk = 0; kk < KT / 16; kk++) {
            unsigned pa[4];
            pack_a(pa, s, kk);
#pragma unroll
            for (int dn = 0; dn < D / 8; dn++) {
                unsigned bb[2];
                load_b(bb, Vt, KT + FA_PAD, dn * 8, kk * 16, g, t);
                mma_bf16(o[dn], pa, bb[0], bb[1]);
            }
        }
    }
    l0 = quad_sum(l0);
    l1 = quad_sum(l1);
    const float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) {
        int c = dn * 8 + 2 * t;
        if (live0) *reinterpret_cast<float2*>(out + qb0 + c) = make_float2(o[dn][0] * inv0, o[dn][1] * inv0);
        if (live1) *reinterpret_cast<float2*>(out + qb1 + c) = make_float2(o[dn][2] * inv1, o[dn][3] * inv1);
    }
    if (lse && t == 0) {
        long long r0 = ((long long) b * a.T + i0) * a.Hq + h, r1 = r0 + 8LL * a.Hq;
        if (live0) lse[r0] = l0 > 0.f ? m0 * FA_LN2 + logf(l0) : -CUDART_INF_F;
        if (live1) lse[r1] = l1 > 0.f ? m1 * FA_LN2 + logf(l1) : -CUDART_INF_F;
    }
}

// dq = scale·Σ_j dS_j·k_j with P_j = e^{scale·q·k_j − lse}, dS_j = P_j·(dOut·v_j − Δ) (Δ = dOut·out, per row).
template <int D, int KT>
__device__ __forceinline__ void flash_bwd_dq(const float* q, const float* k, const float* v, const int* seg, const float* dOut, const float* lse,
                  const float* delta, float* dq, AttShape a) {
    __shared__ __align__(16) bf16_t Ks[KT * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Vs[KT * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Kt[D * (KT + FA_PAD)];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int b = blockIdx.z, h = blockIdx.y, hk = h / (a.Hq / a.Hkv);
    const int tb = blockIdx.x * FA_BLOCK, tw = tb + warp * FA_ROWS, i0 = tw + g, i1 = i0 + 8;
    const bool live0 = i0 < a.T, live1 = i1 < a.T;
    const long long qStep = (long long) a.Hq * D;
    const long long qb0 = ((long long) b * a.T + i0) * qStep + (long long) h * D, qb1 = qb0 + 8 * qStep;
    const long long r0 = ((long long) b * a.T + i0) * a.Hq + h, r1 = r0 + 8LL * a.Hq;
    unsigned qa[D / 16][4], ga[D / 16][4];
    load_rows_a<D>(qa, q, qb0, qb1, live0, live1, t);
    load_rows_a<D>(ga, dOut, qb0, qb1, live0, live1, t);
    const float L0 = live0 ? lse[r0] * FA_LOG2E : -CUDART_INF_F, L1 = live1 ? lse[r1] * FA_LOG2E : -CUDART_INF_F;
    const float dl0 = live0 ? delta[r0] : 0.f, dl1 = live1 ? delta[r1] : 0.f;
    float acc[D / 8][4];
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) acc[dn][0] = acc[dn][1] = acc[dn][2] = acc[dn][3] = 0.f;
    const float sc = a.scale * FA_LOG2E;
    int jBegin, jEnd, wBegin, wEnd;
    key_range(a, tb, tb + FA_BLOCK, &jBegin, &jEnd);
    key_range(a, tw, tw + FA_ROWS, &wBegin, &wEnd);
    const bool warpLive = tw < a.T;
    const long long kBase = (long long) b * a.S * a.Hkv * D + (long long) hk * D, kStep = (long long) a.Hkv * D;
    for (int j0 = jBegin; j0 < jEnd; j0 += KT) {
        __syncthreads();
        load_tile<KT, D>(Ks, Kt, k, kBase, kStep, j0, a.S);
        load_tile<KT, D>(Vs, nullptr, v, kBase, kStep, j0, a.S);
        __syncthreads();
        if (!warpLive || j0 >= wEnd || j0 + KT <= wBegin) continue;
        float s[KT / 8][4], dp[KT / 8][4];
#pragma unroll
        for (int nt = 0; nt < KT / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) s[nt][e] = dp[nt][e] = 0.f;
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++) {
                unsigned bb[2];
                load_b(bb, Ks, D + FA_PAD, nt * 8, ks * 16, g, t);
                mma_bf16(s[nt], qa[ks], bb[0], bb[1]);
                load_b(bb, Vs, D + FA_PAD, nt * 8, ks * 16, g, t);
                mma_bf16(dp[nt], ga[ks], bb[0], bb[1]);
            }
        }
        const bool full = tile_visible(a, seg, tw, FA_ROWS, j0, KT);
        mask_scores<KT / 8>(s, a, seg, b, j0, a.qOff + i0, a.qOff + i1, live0, live1, full, sc, t);
#pragma unroll
        for (int nt = 0; nt < KT / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float L = e < 2 ? L0 : L1, dl = e < 2 ? dl0 : dl1;
                float p = (L == -CUDART_INF_F || s[nt][e] == -CUDART_INF_F) ? 0.f : exp2f(s[nt][e] - L);
                s[nt][e] = p * (dp[nt][e] - dl);
            }
        }
#pragma unroll
        for (int kk = 0; kk < KT / 16; kk++) {
            unsigned da[4];
            pack_a(da, s, kk);
#pragma unroll
            for (int dn = 0; dn < D / 8; dn++) {
                unsigned bb[2];
                load_b(bb, Kt, KT + FA_PAD, dn * 8, kk * 16, g, t);
                mma_bf16(acc[dn], da, bb[0], bb[1]);
            }
        }
    }
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) {
        int c = dn * 8 + 2 * t;
        if (live0) *reinterpret_cast<float2*>(dq + qb0 + c) = make_float2(acc[dn][0] * a.scale, acc[dn][1] * a.scale);
        if (live1) *reinterpret_cast<float2*>(dq + qb1 + c) = make_float2(acc[dn][2] * a.scale, acc[dn][3] * a.scale);
    }
}

// dk = scale·Σ_i dS_i·q_i and dv = Σ_i P_i·dOut_i over the query rows i of every query head of this kv head.
template <int D, int QT, int KW>
__device__ __forceinline__ void flash_bwd_dkv(const float* q, const float* k, const float* v, const int* seg, const float* dOut, const float* lse,
                   const float* delta, float* dk, float* dv, AttShape a) {
    constexpr int KB = KW * FA_ROWS;  // key rows of the block
    __shared__ __align__(16) bf16_t Kb[KB * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Vb[KB * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Qs[QT * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Gs[QT * (D + FA_PAD)];
    __shared__ __align__(16) bf16_t Qt[D * (QT + FA_PAD)];
    __shared__ __align__(16) bf16_t Gt[D * (QT + FA_PAD)];
    __shared__ float Ls[QT], Dl[QT];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int b = blockIdx.z, hk = blockIdx.y, group = a.Hq / a.Hkv;
    const int jb = blockIdx.x * KB, jw = jb + warp * FA_ROWS, j0r = jw + g, j1r = j0r + 8;
    const long long kBase = (long long) b * a.S * a.Hkv * D + (long long) hk * D, kStep = (long long) a.Hkv * D;
    load_tile<KB, D>(Kb, nullptr, k, kBase, kStep, jb, a.S);
    load_tile<KB, D>(Vb, nullptr, v, kBase, kStep, jb, a.S);
    float dka[D / 8][4], dva[D / 8][4];
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) {
#pragma unroll
        for (int e = 0; e < 4; e++) dka[dn][e] = dva[dn][e] = 0.f;
    }
    const float sc = a.scale * FA_LOG2E;
    // Query rows that may see a key of this block: causal, position ≥ jb; window, position < last key + window.
    const int jLast = min(a.S, jb + KB) - 1;
    const int iBegin = a.causal ? max(0, jb - a.qOff) : 0;
    const int iEnd = a.window > 0 ? min(a.T, jLast + a.window - a.qOff) : a.T;
    const long long qStep = (long long) a.Hq * D;
    for (int r = 0; r < group; r++) {
        const int h = hk * group + r;
        const long long qBase = (long long) b * a.T * qStep + (long long) h * D;
        for (int it = iBegin; it < iEnd; it += QT) {
            __syncthreads();
            load_tile<QT, D>(Qs, Qt, q, qBase, qStep, it, a.T);
            load_tile<QT, D>(Gs, Gt, dOut, qBase, qStep, it, a.T);
            for (int e = threadIdx.x; e < QT; e += blockDim.x) {
                int i = it + e;
                long long row = ((long long) b * a.T + i) * a.Hq + h;
                Ls[e] = i < a.T ? lse[row] * FA_LOG2E : -CUDART_INF_F;
                Dl[e] = i < a.T ? delta[row] : 0.f;
            }
            __syncthreads();
            if (jw >= a.S) continue;
            if (a.causal && a.qOff + it + QT - 1 < jw) continue;                     // every query before every key
            if (a.window > 0 && a.qOff + it - (jw + FA_ROWS - 1) >= a.window) continue;  // every query past the window
            float s[QT / 8][4], dp[QT / 8][4];
#pragma unroll
            for (int nt = 0; nt < QT / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) s[nt][e] = dp[nt][e] = 0.f;
            }
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++) {
                unsigned ka[4], va[4];
                load_a(ka, Kb, D + FA_PAD, warp * FA_ROWS, ks * 16, g, t);
                load_a(va, Vb, D + FA_PAD, warp * FA_ROWS, ks * 16, g, t);
#pragma unroll
                for (int nt = 0; nt < QT / 8; nt++) {
                    unsigned bb[2];
                    load_b(bb, Qs, D + FA_PAD, nt * 8, ks * 16, g, t);
                    mma_bf16(s[nt], ka, bb[0], bb[1]);
                    load_b(bb, Gs, D + FA_PAD, nt * 8, ks * 16, g, t);
                    mma_bf16(dp[nt], va, bb[0], bb[1]);
                }
            }
            // Element (key row g or g + 8 of this warp, query it + 8·nt + 2t + (e & 1)).
            const bool full = tile_visible(a, seg, it, QT, jw, FA_ROWS);
#pragma unroll
            for (int nt = 0; nt < QT / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int col = nt * 8 + 2 * t + (e & 1), i = it + col, j = e < 2 ? j0r : j1r;
                    bool ok = full || (i < a.T && visible(a, seg, b, a.qOff + i, j));
                    float L = Ls[col];
                    float p = (!ok || L == -CUDART_INF_F) ? 0.f : exp2f(s[nt][e] * sc - L);
                    s[nt][e] = p;
                    dp[nt][e] = p * (dp[nt][e] - Dl[col]);
                }
            }
#pragma unroll
            for (int kk = 0; kk < QT / 16; kk++) {
                unsigned pa[4], da[4];
                pack_a(pa, s, kk);
                pack_a(da, dp, kk);
#pragma unroll
                for (int dn = 0; dn < D / 8; dn++) {
                    unsigned bb[2];
                    load_b(bb, Gt, QT + FA_PAD, dn * 8, kk * 16, g, t);
                    mma_bf16(dva[dn], pa, bb[0], bb[1]);
                    load_b(bb, Qt, QT + FA_PAD, dn * 8, kk * 16, g, t);
                    mma_bf16(dka[dn], da, bb[0], bb[1]);
                }
            }
        }
    }
#pragma unroll
    for (int dn = 0; dn < D / 8; dn++) {
        int c = dn * 8 + 2 * t;
        long long o0 = ((long long) b * a.S + j0r) * a.Hkv * D + (long long) hk * D + c, o1 = o0 + 8 * kStep;
        if (j0r < a.S) {
            *reinterpret_cast<float2*>(dk + o0) = make_float2(dka[dn][0] * a.scale, dka[dn][1] * a.scale);
            *reinterpret_cast<float2*>(dv + o0) = make_float2(dva[dn][0], dva[dn][1]);
        }
        if (j1r < a.S) {
            *reinterpret_cast<float2*>(dk + o1) = make_float2(dka[dn][2] * a.scale, dka[dn][3] * a.scale);
            *reinterpret_cast<float2*>(dv + o1) = make_float2(dva[dn][2], dva[dn][3]);
        }
    }
}

// The entries: head dim 64 (TinyLlama, Llama-3.2) and 128 (Llama-2/3 7–8B, Mistral); tiles sized so each block's
// static shared memory stays under 48 KiB: forward 64-key tiles; dq 64 (D 64) or 32 (D 128) keys; dk/dv 64 key
// rows and 32-query tiles (D 64) or 32 key rows (two warps) and 16-query tiles (D 128).
#define FA_FWD_ARGS const float* q, const float* k, const float* v, const int* seg, float* out, float* lse, AttShape a
#define FA_DQ_ARGS const float* q, const float* k, const float* v, const int* seg, const float* dOut, const float* lse, \
        const float* delta, float* dq, AttShape a
#define FA_DKV_ARGS const float* q, const float* k, const float* v, const int* seg, const float* dOut, const float* lse, \
        const float* delta, float* dk, float* dv, AttShape a
extern "C" __global__ void __launch_bounds__(128) flash_fwd_bf16_d64(FA_FWD_ARGS) { flash_fwd<64, 64>(q, k, v, seg, out, lse, a); }
extern "C" __global__ void __launch_bounds__(128) flash_fwd_bf16_d128(FA_FWD_ARGS) { flash_fwd<128, 64>(q, k, v, seg, out, lse, a); }
extern "C" __global__ void __launch_bounds__(128) flash_bwd_dq_bf16_d64(FA_DQ_ARGS) {
    flash_bwd_dq<64, 64>(q, k, v, seg, dOut, lse, delta, dq, a);
}
extern "C" __global__ void __launch_bounds__(128) flash_bwd_dq_bf16_d128(FA_DQ_ARGS) {
    flash_bwd_dq<128, 32>(q, k, v, seg, dOut, lse, delta, dq, a);
}
extern "C" __global__ void __launch_bounds__(128) flash_bwd_dkv_bf16_d64(FA_DKV_ARGS) {
    flash_bwd_dkv<64, 32, 4>(q, k, v, seg, dOut, lse, delta, dk, dv, a);
}
extern "C" __global__ void __launch_bounds__(64) flash_bwd_dkv_bf16_d128(FA_DKV_ARGS) {
    flash_bwd_dkv<128, 16, 2>(q, k, v, seg, dOut, lse, delta, dk, dv, a);
}
