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

    /**
     * The three product forms of one (batch row, GQA offset r) over the Hkv kv heads, in column-major terms of the
     * row-major buffers: rows are query-side (Q, dO, O, dQ: ld Hq·D, head stride g·D), keys are kv-side (K, V, dK,
     * dV: ld Hkv·D, head stride D), scores are (rows × S) per head (ld S, head stride g·rows·S).
     */
    private record Products(CudaContext ctx, Cublas cb, Dims x, int compute) {
        /** scores' (S × rows) = keys'ᵀ · rows': raw Q·Kᵀ, or dO·Vᵀ. */
        void rowsDotKeys(String name, long keys, long rowsPtr, long scores, int rows) {
            ctx.queued(name, () -> cb.gemm(Cublas.OP_T, Cublas.OP_N, x.s, rows, x.d, keys, Cublas.R_32F, x.hkv * x.d, x.d,
                    rowsPtr, x.hq * x.d, (long) x.g * x.d, false, scores, x.s, (long) x.g * rows * x.s, x.hkv, compute));
        }

        /** out' (D × rows) = keys' (D × S) · scores': P·V, or dS·K. */
        void scoresTimesKeys(String name, long keys, long scores, long out, int rows) {
            ctx.queued(name, () -> cb.gemm(Cublas.OP_N, Cublas.OP_N, x.d, rows, x.s, keys, Cublas.R_32F, x.hkv * x.d, x.d,
                    scores, x.s, (long) x.g * rows * x.s, false, out, x.hq * x.d, (long) x.g * x.d, x.hkv, compute));
        }

        /** keysOut' (D × S) (+)= rows' (D × rows) · scores'ᵀ: Pᵀ·dO into dV, or dSᵀ·Q into dK. */
        void scoresTransposedTimesRows(String name, long rowsPtr, long scores, boolean accumulate, long keysOut, int rows) {
            ctx.queued(name, () -> cb.gemm(Cublas.OP_N, Cublas.OP_T, x.d, x.s, rows, rowsPtr, Cublas.R_32F, x.hq * x.d,
                    (long) x.g * x.d, scores, x.s, (long) x.g * rows * x.s, accumulate, keysOut, x.hkv * x.d, x.d, x.hkv, compute));
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
        Products pr = new Products(ctx, gemm.cublas(), x, compute());
        for (int bi = 0; bi < x.b; bi++) {
            long kb = 4 * x.kBatch(bi);
            for (int i0 = 0; i0 < x.t; i0 += tc) {
                int rows = Math.min(tc, x.t - i0);
                for (int r = 0; r < x.g; r++) {
                    pr.rowsDotKeys("attention scores", kp + kb, qp + 4 * x.qRow(bi, i0, r), sc + 4L * r * rows * x.s, rows);
                }
                ctx.launch(CudaKernels.ATTENTION_PROBS, LaunchConfig.perRow((long) x.hq * rows), sc, l.ptr, sp, shape, bi, i0, rows);
                for (int r = 0; r < x.g; r++) {
                    pr.scoresTimesKeys("attention values", vp + kb, sc + 4L * r * rows * x.s, o.ptr + 4 * x.qRow(bi, i0, r), rows);
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
        Products pr = new Products(ctx, gemm.cublas(), x, compute());
        for (int bi = 0; bi < x.b; bi++) {
            long kb = 4 * x.kBatch(bi);
            for (int i0 = 0; i0 < x.t; i0 += tc) {
                int rows = Math.min(tc, x.t - i0);
                for (int r = 0; r < x.g; r++) {
                    long qo = 4 * x.qRow(bi, i0, r), so = 4L * r * rows * x.s;
                    pr.rowsDotKeys("attention scores", kp + kb, qp + qo, sc + so, rows);
                    pr.rowsDotKeys("attention dP", vp + kb, gp + qo, dc + so, rows);
                }
                ctx.launch(CudaKernels.ATTENTION_SCORE_GRADS, LaunchConfig.perRow((long) x.hq * rows), sc, dc, lp, dl, sp, shape, bi, i0, rows);
                for (int r = 0; r < x.g; r++) {
                    boolean acc = i0 > 0 || r > 0; // the first product of this batch row writes dK and dV, the others add
                    long qo = 4 * x.qRow(bi, i0, r), so = 4L * r * rows * x.s;
                    pr.scoresTransposedTimesRows("attention dV", gp + qo, sc + so, acc, ov.ptr + kb, rows);
                    pr.scoresTimesKeys("attention dQ", kp + kb, dc + so, oq.ptr + qo, rows);
                    pr.scoresTransposedTimesRows("attention dK", qp + qo, dc + so, acc, ok.ptr + kb, rows);
                }
            }
        }
        oq.finish();
        ok.finish();
        ov.finish();
    }
}
