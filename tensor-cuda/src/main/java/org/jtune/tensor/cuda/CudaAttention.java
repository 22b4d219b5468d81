package org.jtune.tensor.cuda;

import static org.jtune.tensor.DType.F32;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;

/**
 * Attention of many query rows (prefill, training) as matrix products on cuBLAS: per batch row b and
 * chunk of query rows, the raw scores S = Q·Kᵀ (Hq, tc, S) go to a scratch buffer, one kernel turns
 * them into probabilities P in place (mask, scale, lse: {@code attention_probs_f32}), and O = P·V lands
 * in the output. The backward recomputes S and P from lse, forms dP = dO·Vᵀ, turns both into P and
 * dS·scale ({@code attention_score_grads_f32}), then dV += Pᵀ·dO, dQ = dS·K and dK += dSᵀ·Q. GQA: query
 * head h = kv·g + r reads kv head kv; one strided-batched call per (b, r) covers the Hkv kv heads, and
 * the g calls of one kv head accumulate into dK and dV. The scratch is bounded by {@link #SCRATCH_BYTES}
 * (query rows are chunked), so memory stays O(T·S / chunks) rather than O(B·Hq·T·S). With the backend's
 * mixed precision on, the products round their F32 inputs to TF32 on the tensor cores (as PyTorch's
 * allow_tf32); off, they are exact F32 products as the conformance suite expects. Layouts and mask rules
 * are those of the fused kernels in attention.cu, which the backend keeps for single query rows (decode).
 */
final class CudaAttention {
    /** Bytes of score scratch per call (the backward needs two such buffers). */
    static final long SCRATCH_BYTES = 1L << 30;

    private final CudaContext ctx;
    private final CudaTensors ts;
    private final CudaGemm gemm;

    CudaAttention(CudaBackend be, CudaGemm gemm) {
        this.ctx = be.context;
        this.ts = be.tensors;
        this.gemm = gemm;
    }

    /** Whether this path serves the shapes: several query rows and at least one key. */
    static boolean serves(Tensor q, Tensor k) {
        return q.size(1) > 1 && k.size(1) > 0 && q.size(0) > 0 && q.size(2) > 0;
    }

    /** Query rows per chunk so that {@code buffers} score buffers of (Hq, rows, S) floats fit the scratch budget. */
    static int chunkRows(int t, int hq, int s, int buffers) {
        long perRow = (long) hq * s * 4 * buffers;
        return (int) Math.max(1, Math.min(t, SCRATCH_BYTES / Math.max(1, perRow)));
    }

    private int compute() {
        return gemm.mixedPrecision ? Cublas.COMPUTE_32F_FAST_TF32 : Cublas.COMPUTE_32F;
    }

    private record Dims(int b, int t, int s, int hq, int hkv, int d, int g) {
        static Dims of(Tensor q, Tensor k) {
            return new Dims(q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3), q.size(2) / k.size(2));
        }

        /** Element offset of query row i, head r (of the first kv group), batch row b, in a (B, T, Hq, D) tensor. */
        long qRow(int bi, int i, int r) {
            return (((long) bi * t + i) * hq + r) * d;
        }

        long kBatch(int bi) {
            return (long) bi * s * hkv * d;
        }
    }

    /** The scale travels in {@code shape} (the kernels' AttShape). */
    void forward(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor out, Tensor lse, byte[] shape) {
        Dims x = Dims.of(q, k);
        long qp = ts.denseF32(q), kp = ts.denseF32(k), vp = ts.denseF32(v);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        CudaTensors.Out o = ts.out(out, F32, false), l = ts.out(lse, F32, false);
        int tc = chunkRows(x.t, x.hq, x.s, 1);
        Tensor scores = ts.temp(F32, x.hq, tc, x.s);
        long sc = ts.address(scores);
        Cublas cb = gemm.cublas();
        int cmp = compute();
        for (int bi = 0; bi < x.b; bi++) {
            for (int i0 = 0; i0 < x.t; i0 += tc) {
                int rows = Math.min(tc, x.t - i0);
                for (int r = 0; r < x.g; r++) {
                    int rr = r, b0 = bi, j0 = i0;
                    // S' (S × rows) = K'ᵀ · Q' (column-major views of the row-major K and Q rows)
                    gemmCall("attention scores", () -> cb.gemm(Cublas.OP_T, Cublas.OP_N, x.s, rows, x.d,
                            kp + 4 * x.kBatch(b0), Cublas.R_32F, x.hkv * x.d, x.d,
                            qp + 4 * x.qRow(b0, j0, rr), x.hq * x.d, (long) x.g * x.d,
                            false, sc + 4L * rr * rows * x.s, x.s, (long) x.g * rows * x.s, x.hkv, cmp));
                }
                ctx.launch(CudaKernels.ATTENTION_PROBS, LaunchConfig.perRow((long) x.hq * rows), sc, l.ptr, sp, shape, bi, i0, rows);
                for (int r = 0; r < x.g; r++) {
                    int rr = r, b0 = bi, j0 = i0;
                    // O' (D × rows) = V' (D × S) · P' (S × rows)
                    gemmCall("attention values", () -> cb.gemm(Cublas.OP_N, Cublas.OP_N, x.d, rows, x.s,
                            vp + 4 * x.kBatch(b0), Cublas.R_32F, x.hkv * x.d, x.d,
                            sc + 4L * rr * rows * x.s, x.s, (long) x.g * rows * x.s,
                            false, o.ptr + 4 * x.qRow(b0, j0, rr), x.hq * x.d, (long) x.g * x.d, x.hkv, cmp));
                }
            }
        }
        o.finish();
        l.finish();
    }

    void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, Tensor dq,
                  Tensor dk, Tensor dv, byte[] shape) {
        Dims x = Dims.of(q, k);
        long qp = ts.denseF32(q), kp = ts.denseF32(k), vp = ts.denseF32(v), op = ts.denseF32(out), lp = ts.denseF32(lse),
                gp = ts.denseF32(dOut);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        long rowsAll = (long) x.b * x.t * x.hq;
        Tensor delta = ts.temp(F32, (int) rowsAll);
        long dl = ts.address(delta);
        ctx.launch(CudaKernels.ATTENTION_DELTA, LaunchConfig.perWarp(rowsAll, LaunchConfig.ATT_WARPS), op, gp, dl, rowsAll, x.d);
        CudaTensors.Out oq = ts.out(dq, F32, false), ok = ts.out(dk, F32, false), ov = ts.out(dv, F32, false);
        int tc = chunkRows(x.t, x.hq, x.s, 2);
        Tensor sBuf = ts.temp(F32, x.hq, tc, x.s), dBuf = ts.temp(F32, x.hq, tc, x.s);
        long sc = ts.address(sBuf), dc = ts.address(dBuf);
        Cublas cb = gemm.cublas();
        int cmp = compute();
        for (int bi = 0; bi < x.b; bi++) {
            long kb = 4 * x.kBatch(bi);
            for (int i0 = 0; i0 < x.t; i0 += tc) {
                int rows = Math.min(tc, x.t - i0);
                for (int r = 0; r < x.g; r++) {
                    int rr = r, b0 = bi, j0 = i0;
                    long qo = 4 * x.qRow(b0, j0, rr), so = 4L * rr * rows * x.s;
                    gemmCall("attention scores", () -> cb.gemm(Cublas.OP_T, Cublas.OP_N, x.s, rows, x.d, kp + kb, Cublas.R_32F, x.hkv * x.d,
                            x.d, qp + qo, x.hq * x.d, (long) x.g * x.d, false, sc + so, x.s, (long) x.g * rows * x.s, x.hkv, cmp));
                    // dP' (S × rows) = V'ᵀ · dO'
                    gemmCall("attention dP", () -> cb.gemm(Cublas.OP_T, Cublas.OP_N, x.s, rows, x.d, vp + kb, Cublas.R_32F, x.hkv * x.d,
                            x.d, gp + qo, x.hq * x.d, (long) x.g * x.d, false, dc + so, x.s, (long) x.g * rows * x.s, x.hkv, cmp));
                }
                ctx.launch(CudaKernels.ATTENTION_SCORE_GRADS, LaunchConfig.perRow((long) x.hq * rows), sc, dc, lp, dl, sp, shape, bi, i0, rows);
                for (int r = 0; r < x.g; r++) {
                    int rr = r, b0 = bi, j0 = i0;
                    boolean acc = i0 > 0 || r > 0; // the first product of this batch row writes dK and dV, the others add
                    long qo = 4 * x.qRow(b0, j0, rr), so = 4L * rr * rows * x.s;
                    // dV' (D × S) += dO' (D × rows) · P'ᵀ
                    gemmCall("attention dV", () -> cb.gemm(Cublas.OP_N, Cublas.OP_T, x.d, x.s, rows, gp + qo, Cublas.R_32F, x.hq * x.d,
                            (long) x.g * x.d, sc + so, x.s, (long) x.g * rows * x.s, acc, ov.ptr + kb, x.hkv * x.d, x.d, x.hkv, cmp));
                    // dQ' (D × rows) = K' (D × S) · dS'
                    gemmCall("attention dQ", () -> cb.gemm(Cublas.OP_N, Cublas.OP_N, x.d, rows, x.s, kp + kb, Cublas.R_32F, x.hkv * x.d,
                            x.d, dc + so, x.s, (long) x.g * rows * x.s, false, oq.ptr + qo, x.hq * x.d, (long) x.g * x.d, x.hkv, cmp));
                    // dK' (D × S) += Q' (D × rows) · dS'ᵀ
                    gemmCall("attention dK", () -> cb.gemm(Cublas.OP_N, Cublas.OP_T, x.d, x.s, rows, qp + qo, Cublas.R_32F, x.hq * x.d,
                            (long) x.g * x.d, dc + so, x.s, (long) x.g * rows * x.s, acc, ok.ptr + kb, x.hkv * x.d, x.d, x.hkv, cmp));
                }
            }
        }
        oq.finish();
        ok.finish();
        ov.finish();
    }

    private void gemmCall(String name, Runnable call) {
        ctx.queued(name, call);
    }
}
