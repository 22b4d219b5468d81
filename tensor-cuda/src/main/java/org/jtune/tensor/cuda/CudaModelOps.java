package org.jtune.tensor.cuda;

import static org.jtune.tensor.DType.F32;
import static org.jtune.tensor.DType.I32;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.ReduceOp;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Tensor;

/**
 * The CUDA backend's row, loss, normalisation, rotary, embedding, attention and optimizer ops: shapes
 * as {@link org.jtune.tensor.Backend} states them, each op densifying its inputs ({@link CudaTensors})
 * and launching the kernels of rows.cu, loss.cu, indexing.cu, attention.cu and optim.cu. Index inputs
 * (ids, targets) are read back and checked on the host first, so a bad id gets the CPU backend's message
 * and no output is half-written.
 */
final class CudaModelOps {
    private final CudaBackend be;
    private final CudaContext ctx;
    private final CudaTensors ts;
    private final CudaAttention products;
    private final CudaFlashAttention flash;

    CudaModelOps(CudaBackend be, CudaGemm gemm) {
        this.be = be;
        this.ctx = be.context;
        this.ts = be.tensors;
        this.products = new CudaAttention(be, gemm);
        this.flash = new CudaFlashAttention(be, gemm);
    }

    // ---- reductions and rows -------------------------------------------------------------------

    void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) {
        int n = x.size(dim);
        long rows = x.numel() / Math.max(1, n);
        if (out.numel() == 0) return;
        if (n == 0) { // as the CPU: an empty sum is 0, max −∞, min +∞, mean and variance NaN
            be.fill(out, switch (op) {
                case SUM -> 0f;
                case MAX -> Float.NEGATIVE_INFINITY;
                case MIN -> Float.POSITIVE_INFINITY;
                case MEAN, VAR -> Float.NaN;
            });
            return;
        }
        long xp = ts.denseF32(CudaTensors.dimLast(x, dim));
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.REDUCE_ROWS, LaunchConfig.perRow(rows), xp, o.ptr, n, op.ordinal(), correction);
        o.finish();
    }

    void argmax(Tensor x, int dim, Tensor out) {
        int n = x.size(dim);
        long rows = x.numel() / Math.max(1, n);
        if (out.numel() == 0) return;
        long xp = ts.denseF32(CudaTensors.dimLast(x, dim));
        CudaTensors.Out o = ts.out(out, I32, false);
        ctx.launch(CudaKernels.ARGMAX_ROWS, LaunchConfig.perThread(rows), xp, o.ptr, (int) rows, n);
        o.finish();
    }

    /** Kept dims first, broadcast (reduced) dims last: a row sum of the permuted view lands in out's order. */
    void sumTo(Tensor g, Tensor out) {
        if (out.numel() == 0) return;
        int r = g.rank();
        int[] order = new int[r];
        int k = 0;
        long reduced = 1;
        for (int d = 0; d < r; d++) if (!(out.size(d) == 1 && g.size(d) != 1)) order[k++] = d;
        for (int d = 0; d < r; d++) {
            if (out.size(d) == 1 && g.size(d) != 1) {
                order[k++] = d;
                reduced *= g.size(d);
            }
        }
        if (g.numel() == 0) {
            be.fill(out, 0f);
            return;
        }
        long gp = ts.denseF32(g.permute(order));
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.REDUCE_ROWS, LaunchConfig.perRow(out.numel()), gp, o.ptr, (int) reduced, ReduceOp.SUM.ordinal(), 0);
        o.finish();
    }

    double sumOfSquares(Tensor x) {
        long n = x.numel();
        if (n == 0) return 0;
        long xp = ts.denseF32(x);
        int chunks = (int) LaunchConfig.ceilDiv(n, LaunchConfig.SQUARES_CHUNK);
        Tensor partial = ts.temp(F32, 2 * chunks); // doubles
        ctx.launch(CudaKernels.SUM_SQUARES, new LaunchConfig(chunks, 1, 1, LaunchConfig.THREADS, 0), xp, ts.address(partial), n,
                LaunchConfig.SQUARES_CHUNK);
        MemorySegment host = MemorySegment.ofArray(new double[chunks]);
        be.staging.download(be.pointer(partial), host);
        double s = 0;
        for (int i = 0; i < chunks; i++) s += host.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
        return s;
    }

    void softmax(Tensor x, Tensor out, boolean log) {
        if (out.numel() == 0) return;
        long xp = ts.denseF32(x);
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.SOFTMAX, LaunchConfig.perRow(CudaTensors.rows(x)), xp, o.ptr, CudaTensors.lastDim(x), log ? 1 : 0);
        o.finish();
    }

    void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out) {
        if (out.numel() == 0) return;
        long yp = ts.denseF32(y), gp = ts.denseF32(g);
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.SOFTMAX_BACKWARD, LaunchConfig.perRow(CudaTensors.rows(y)), yp, gp, o.ptr, CudaTensors.lastDim(y), log ? 1 : 0);
        o.finish();
    }

    void rmsNorm(Tensor x, Tensor w, float eps, Tensor out, Tensor rstd) {
        if (out.numel() == 0) return;
        long xp = ts.denseF32(x), wp = ts.denseF32(w);
        CudaTensors.Out o = ts.out(out, F32, false), r = ts.out(rstd, F32, false);
        ctx.launch(CudaKernels.RMSNORM, LaunchConfig.perRow(CudaTensors.rows(x)), xp, wp, o.ptr, r.ptr, CudaTensors.lastDim(x), eps);
        o.finish();
        r.finish();
    }

    void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor g, Tensor dx, Tensor dw) {
        long rows = CudaTensors.rows(x);
        int n = CudaTensors.lastDim(x);
        if (x.numel() == 0) {
            if (dw != null) be.fill(dw, 0f);
            return;
        }
        long xp = ts.denseF32(x), rp = ts.denseF32(rstd), gp = ts.denseF32(g);
        if (dx != null) {
            long wp = ts.denseF32(w);
            CudaTensors.Out o = ts.out(dx, F32, false);
            ctx.launch(CudaKernels.RMSNORM_DX, LaunchConfig.perRow(rows), xp, wp, rp, gp, o.ptr, n);
            o.finish();
        }
        if (dw != null) {
            CudaTensors.Out o = ts.out(dw, F32, false);
            ctx.launch(CudaKernels.RMSNORM_DW, LaunchConfig.perThread(n), xp, rp, gp, o.ptr, (int) rows, n);
            o.finish();
        }
    }

    void layerNorm(Tensor x, Tensor w, Tensor bias, float eps, Tensor out) {
        if (out.numel() == 0) return;
        long xp = ts.denseF32(x), wp = ts.denseF32(w), bp = ts.denseF32OrNull(bias);
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.LAYERNORM, LaunchConfig.perRow(CudaTensors.rows(x)), xp, wp, bp, o.ptr, CudaTensors.lastDim(x), eps);
        o.finish();
    }

    void rope(Tensor x, Tensor pos, Tensor invFreq, boolean inverse, Tensor out) {
        if (out.numel() == 0) return;
        int h = x.size(2), d = x.size(3);
        long pairs = x.numel() / 2;
        long xp = ts.denseF32(x), pp = ts.denseI32(pos), fp = ts.denseF32(invFreq);
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.ROPE, LaunchConfig.gridStride(pairs, ctx.multiprocessors()), xp, pp, fp, o.ptr, pairs, h, d, inverse ? 1 : 0);
        o.finish();
    }

    // ---- embedding and loss --------------------------------------------------------------------

    /** The I32 values of a small index tensor, read back to the host for checking. */
    private int[] hostInts(Tensor t) {
        return be.host(t).toIntArray();
    }

    void embedding(Tensor weight, Tensor ids, Tensor out) {
        int v = weight.size(0), d = weight.size(1), n = ids.size(0);
        int[] id = hostInts(ids);
        for (int i = 0; i < n; i++) {
            if (id[i] < 0 || id[i] >= v) {
                throw new IllegalArgumentException("embedding: id " + id[i] + " at position " + i + " outside [0, " + v + ") for weight "
                        + Arrays.toString(weight.shape()));
            }
        }
        if (out.numel() == 0) return;
        Tensor w = weight.isContiguous() && weight.dtype() != I32 ? weight : ts.dense(weight, F32);
        CudaTensors.Out o = ts.out(out, F32, false);
        ctx.launch(CudaKernels.EMBEDDING, LaunchConfig.perRow(n), ts.address(w), CudaDType.code(w.dtype()), ts.denseI32(ids), o.ptr, d, v,
                ts.address(flag()));
        o.finish();
    }

    void embeddingBackward(Tensor g, Tensor ids, Tensor dW) {
        int rows = dW.size(0), d = dW.size(1), n = ids.size(0);
        int[] id = hostInts(ids);
        for (int i = 0; i < n; i++) {
            if (id[i] >= rows) {
                throw new IllegalArgumentException("embedding backward: id " + id[i] + " at position " + i + " outside [0, " + rows
                        + ") for a gradient of " + Arrays.toString(dW.shape()));
            }
        }
        if (n == 0 || d == 0) return;
        CudaTensors.Out o = ts.out(dW, F32, true);
        ctx.launch(CudaKernels.EMBEDDING_BACKWARD, LaunchConfig.perThread(d), ts.denseF32(g), ts.denseI32(ids), o.ptr, n, d, rows,
                ts.address(flag()));
        o.finish();
    }

    /** The kernels' bad-index flag (checked on the host before launch, so it stays unread). */
    private Tensor flag() {
        Tensor f = ts.temp(I32, 1);
        be.fill(f, 0f);
        return f;
    }

    private void checkTargets(Tensor targets, int ignoreIndex, int v) {
        int[] t = hostInts(targets);
        for (int r = 0; r < t.length; r++) {
            if (t[r] != ignoreIndex && (t[r] < 0 || t[r] >= v)) {
                throw new IllegalArgumentException("cross_entropy: target " + t[r] + " of row " + r + " outside [0, " + v
                        + ") and not the ignore index " + ignoreIndex);
            }
        }
    }

    void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        int v = CudaTensors.lastDim(logits), n = (int) CudaTensors.rows(logits);
        checkTargets(targets, ignoreIndex, v);
        if (n == 0) return;
        long lp = ts.denseF32(logits), tp = ts.denseI32(targets);
        CudaTensors.Out o = ts.out(losses, F32, false), l = ts.out(lse, F32, false);
        ctx.launch(CudaKernels.CROSS_ENTROPY, LaunchConfig.perRow(n), lp, tp, ignoreIndex, o.ptr, l.ptr, v, ts.address(flag()));
        o.finish();
        l.finish();
    }

    void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        int v = CudaTensors.lastDim(logits), n = (int) CudaTensors.rows(logits);
        checkTargets(targets, ignoreIndex, v);
        if (n == 0) return;
        long lp = ts.denseF32(logits), tp = ts.denseI32(targets), sp = ts.denseF32(lse);
        CudaTensors.Out o = ts.out(grad, F32, false);
        ctx.launch(CudaKernels.CROSS_ENTROPY_BACKWARD, LaunchConfig.perRow(n), lp, tp, ignoreIndex, sp, scale, o.ptr, v, ts.address(flag()));
        o.finish();
    }

    void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        int v = CudaTensors.lastDim(logits), n = (int) CudaTensors.rows(logits);
        checkTargets(targets, ignoreIndex, v);
        if (n == 0) return;
        long lp = ts.denseF32(logits), tp = ts.denseI32(targets);
        CudaTensors.Out o = ts.out(losses, F32, false), gr = ts.out(grad, F32, false);
        ctx.launch(CudaKernels.CROSS_ENTROPY_WITH_GRAD, LaunchConfig.perRow(n), lp, tp, ignoreIndex, scale, o.ptr, gr.ptr, v,
                ts.address(flag()));
        o.finish();
        gr.finish();
    }

    // ---- attention -----------------------------------------------------------------------------

    private byte[] shape(Tensor q, Tensor k, AttentionMask mask, float scale) {
        return CudaLayouts.attention(q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3), mask.causal(), mask.window(),
                mask.queryOffset(), scale);
    }

    void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        if (out.numel() == 0) return;
        if (flash.serves(q, k)) {
            flash.forward(q, k, v, mask, out, lse, shape(q, k, mask, scale));
            return;
        }
        if (CudaAttention.serves(q, k)) {
            products.forward(q, k, v, mask, out, lse, shape(q, k, mask, scale));
            return;
        }
        long qp = ts.denseF32(q), kp = ts.denseF32(k), vp = ts.denseF32(v);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        CudaTensors.Out o = ts.out(out, F32, false), l = ts.out(lse, F32, false);
        ctx.launch(CudaKernels.ATTENTION_FWD, LaunchConfig.attentionRows(q.size(0), q.size(1), q.size(2), q.size(3), false),
                qp, kp, vp, sp, o.ptr, l.ptr, shape(q, k, mask, scale));
        o.finish();
        l.finish();
    }

    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                           Tensor dq, Tensor dk, Tensor dv) {
        if (q.numel() == 0 && k.numel() == 0) return;
        if (flash.serves(q, k)) {
            flash.backward(q, k, v, out, lse, dOut, mask, dq, dk, dv, shape(q, k, mask, scale));
            return;
        }
        if (CudaAttention.serves(q, k)) {
            products.backward(q, k, v, out, lse, dOut, mask, dq, dk, dv, shape(q, k, mask, scale));
            return;
        }
        long qp = ts.denseF32(q), kp = ts.denseF32(k), vp = ts.denseF32(v), op = ts.denseF32(out), lp = ts.denseF32(lse),
                gp = ts.denseF32(dOut);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        long rows = (long) q.size(0) * q.size(1) * q.size(2);
        Tensor delta = ts.temp(F32, (int) Math.max(1, rows));
        byte[] sh = shape(q, k, mask, scale);
        if (rows > 0) {
            ctx.launch(CudaKernels.ATTENTION_DELTA, LaunchConfig.perWarp(rows, LaunchConfig.ATT_WARPS), op, gp, ts.address(delta), rows, q.size(3));
            CudaTensors.Out oq = ts.out(dq, F32, false);
            ctx.launch(CudaKernels.ATTENTION_BWD_DQ, LaunchConfig.attentionRows(q.size(0), q.size(1), q.size(2), q.size(3), true),
                    qp, kp, vp, sp, gp, lp, ts.address(delta), oq.ptr, sh);
            oq.finish();
        }
        if (k.numel() > 0) {
            CudaTensors.Out ok = ts.out(dk, F32, false), ov = ts.out(dv, F32, false);
            ctx.launch(CudaKernels.ATTENTION_BWD_DKV, LaunchConfig.attentionKeys(k.size(0), k.size(1), k.size(2), k.size(3)),
                    qp, kp, vp, sp, gp, lp, ts.address(delta), ok.ptr, ov.ptr, sh);
            ok.finish();
            ov.finish();
        }
    }

    // ---- optimizers ----------------------------------------------------------------------------

    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        long n = param.numel();
        if (n == 0) return;
        CudaTensors.Out p = ts.out(param, F32, true), mo = ts.out(m, F32, true), vo = ts.out(v, F32, true);
        ctx.launch(CudaKernels.ADAMW, LaunchConfig.gridStride(n, ctx.multiprocessors()), p.ptr, ts.denseF32(grad), mo.ptr, vo.ptr, n,
                s.decay(), s.beta1Complement(), s.beta2(), s.beta2Complement(), s.bias2Sqrt(), s.eps(), s.stepSize());
        p.finish();
        mo.finish();
        vo.finish();
    }

    void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep s) {
        long n = param.numel();
        if (n == 0) return;
        CudaTensors.Out p = ts.out(param, F32, true), b = ts.out(buf, F32, true);
        ctx.launch(CudaKernels.SGD, LaunchConfig.gridStride(n, ctx.multiprocessors()), p.ptr, ts.denseF32(grad), b.ptr, n, s.lr(),
                s.weightDecay(), s.momentum(), s.dampeningComplement(), s.nesterov() ? 1 : 0, s.first() ? 1 : 0);
        p.finish();
        b.finish();
    }
}
