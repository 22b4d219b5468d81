package org.jtune.tensor.opencl;

import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Tensor;

/**
 * The OpenCL backend's indexing, attention, loss, top-k and optimizer ops (loss_index.cl, attention.cl,
 * elementwise.cl's updates), with the contracts of {@link org.jtune.tensor.Backend}. Ids and targets are
 * read back and range-checked on the host first (a small copy of N ints), so a bad one is the same
 * error, naming it, as on the CPU, and no kernel reads outside its table.
 */
final class OpenClKernels {
    private final OpenClBackend be;

    OpenClKernels(OpenClBackend be) {
        this.be = be;
    }

    private ClTransfers io() {
        return be.io();
    }

    private void run(String kernel, long n, Object... args) {
        be.launch(kernel, n, args);
    }

    private static Object opt(Tensor t) {
        return OpenClBackend.optional(t);
    }

    // ---- indexing (loss_index.cl) ------------------------------------------------------------------

    void embedding(Tensor weight, Tensor ids, Tensor out) {
        int v = weight.size(0), d = weight.size(1);
        Tensor id = io().dense(ids, DType.I32);
        int[] host = id.toIntArray();
        for (int i = 0; i < host.length; i++) {
            if (host[i] < 0 || host[i] >= v) throw new IllegalArgumentException("embedding: id " + host[i] + " at position " + i + " outside [0, " + v
                    + ") for weight " + java.util.Arrays.toString(weight.shape()));
        }
        Tensor w = weight.isContiguous() && weight.dtype().isFloating() ? weight : io().dense(weight);
        Tensor o = io().target(out, false);
        long n = host.length;
        run("embedding_f", n * d, w, OpenClBackend.code(w.dtype()), id, o, n, (long) d);
        io().finish(o, out);
    }

    void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight) {
        int v = dWeight.size(0), d = dWeight.size(1);
        Tensor id = io().dense(ids, DType.I32);
        int[] host = id.toIntArray();
        for (int i = 0; i < host.length; i++) {
            if (host[i] >= v) throw new IllegalArgumentException("embedding backward: id " + host[i] + " at position " + i + " outside [0, " + v
                    + ") for a gradient of " + java.util.Arrays.toString(dWeight.shape()));
        }
        Tensor gd = io().dense(g), dw = io().target(dWeight, true);
        run("embedding_bwd", d, gd, id, dw, (long) host.length, (long) d);
        io().finish(dw, dWeight);
    }

    private static long prod(int[] shape, int from, int to) {
        long p = 1;
        for (int d = from; d < to; d++) p *= shape[d];
        return p;
    }

    /** The CPU's messages (cpu/Indexing): op, index, its position (row-major coordinates of idx) and the indexed shape. */
    private static void checkIndices(String op, Tensor idx, int[] host, int dim, int[] indexed, boolean flatPosition) {
        int size = indexed[dim];
        for (int i = 0; i < host.length; i++) {
            if (host[i] >= 0 && host[i] < size) continue;
            String at = flatPosition ? "position " + i : java.util.Arrays.toString(coordinates(idx.shape(), i));
            throw new IllegalArgumentException(op + ": index " + host[i] + " at " + at + " outside [0, " + size + ") of dim " + dim + " of "
                    + java.util.Arrays.toString(indexed));
        }
    }

    private static int[] coordinates(int[] shape, long index) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = (int) (index % shape[d]);
            index /= shape[d];
        }
        return c;
    }

    void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) {
        Tensor xd = io().dense(x), id = io().dense(idx, DType.I32), o = io().target(out, false);
        int[] s = x.shape();
        checkIndices("index_select", id, id.toIntArray(), dim, s, true);
        long outer = prod(s, 0, dim), inner = prod(s, dim + 1, s.length), k = idx.numel();
        run("index_select_f", outer * k * inner, xd, id, o, outer, (long) s[dim], k, inner);
        io().finish(o, out);
    }

    void gather(Tensor x, int dim, Tensor idx, Tensor out) {
        Tensor xd = io().dense(x), id = io().dense(idx, DType.I32), o = io().target(out, false);
        checkIndices("gather", id, id.toIntArray(), dim, x.shape(), false);
        run("gather_f", out.numel(), xd, io().layout(xd), id, io().layout(id), dim, o, out.numel());
        io().finish(o, out);
    }

    void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        Tensor d = io().target(dst, true), id = io().dense(idx, DType.I32), s = io().dense(src);
        checkIndices("scatter_add", id, id.toIntArray(), dim, dst.shape(), false);
        long len = src.size(dim), lines = len == 0 ? 0 : src.numel() / len;
        run("scatter_add_f", lines, d, io().layout(d), id, s, io().layout(s), dim, lines);
        io().finish(d, dst);
    }

    // ---- attention (attention.cl) ------------------------------------------------------------------

    private record Shape(int batch, int tq, int hq, int s, int hkv, int d) {
        static Shape of(Tensor q, Tensor k) {
            return new Shape(q.size(0), q.size(1), q.size(2), k.size(1), k.size(2), q.size(3));
        }

        long queryRows() {
            return (long) batch * tq * hq;
        }
    }

    void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        Shape sh = Shape.of(q, k);
        Tensor qd = io().dense(q), kd = io().dense(k), vd = io().dense(v), seg = io().dense(mask.segments(), DType.I32);
        Tensor o = io().target(out, false), l = io().target(lse, false);
        run("attention_f", sh.queryRows(), qd, kd, vd, opt(seg), seg == null ? 0 : 1, mask.causal() ? 1 : 0, mask.window(),
                mask.queryOffset(), scale, o, opt(l), l == null ? 0 : 1, sh.batch, sh.tq, sh.hq, sh.s, sh.hkv, sh.d);
        io().finish(o, out);
        io().finish(l, lse);
    }

    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                           Tensor dq, Tensor dk, Tensor dv) {
        Shape sh = Shape.of(q, k);
        Tensor qd = io().dense(q), kd = io().dense(k), vd = io().dense(v), od = io().dense(out), ld = io().dense(lse), gd = io().dense(dOut);
        Tensor seg = io().dense(mask.segments(), DType.I32);
        Tensor delta = be.allocate(DType.F32, (int) sh.queryRows());
        run("attention_delta", sh.queryRows(), gd, od, ClTransfers.memory(delta), sh.queryRows(), sh.d);
        Tensor tq = io().target(dq, false), tk = io().target(dk, false), tv = io().target(dv, false);
        int hasSeg = seg == null ? 0 : 1, causal = mask.causal() ? 1 : 0;
        run("attention_bwd_dq", sh.queryRows(), qd, kd, vd, ld, gd, ClTransfers.memory(delta), opt(seg), hasSeg, causal, mask.window(),
                mask.queryOffset(), scale, tq, sh.batch, sh.tq, sh.hq, sh.s, sh.hkv, sh.d);
        run("attention_bwd_dkv", (long) sh.batch * sh.s * sh.hkv, qd, kd, vd, ld, gd, ClTransfers.memory(delta), opt(seg), hasSeg, causal,
                mask.window(), mask.queryOffset(), scale, tk, tv, sh.batch, sh.tq, sh.hq, sh.s, sh.hkv, sh.d);
        io().finish(tq, dq);
        io().finish(tk, dk);
        io().finish(tv, dv);
    }

    // ---- loss and top-k (loss_index.cl) --------------------------------------------------------------

    private Tensor targets(Tensor targets, int ignoreIndex, int rows, int v) {
        Tensor t = io().dense(targets, DType.I32);
        int[] host = t.toIntArray();
        for (int r = 0; r < rows; r++) {
            if (host[r] != ignoreIndex && (host[r] < 0 || host[r] >= v)) {
                throw new IllegalArgumentException("cross_entropy: target " + host[r] + " of row " + r + " outside [0, " + v
                        + ") and not the ignore index " + ignoreIndex);
            }
        }
        return t;
    }

    void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        int rows = logits.size(0), v = logits.size(1);
        Tensor t = targets(targets, ignoreIndex, rows, v), x = io().dense(logits);
        Tensor lo = io().target(losses, false), l = io().target(lse, false);
        run("ce_f", rows, x, t, ignoreIndex, lo, opt(l), l == null ? 0 : 1, (long) rows, (long) v);
        io().finish(lo, losses);
        io().finish(l, lse);
    }

    void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        int rows = logits.size(0), v = logits.size(1);
        Tensor t = targets(targets, ignoreIndex, rows, v), x = grad == logits ? logits : io().dense(logits), l = io().dense(lse);
        Tensor g = io().target(grad, false);
        run("ce_bwd", (long) rows * v, x, t, ignoreIndex, l, scale, g, (long) rows, (long) v);
        io().finish(g, grad);
    }

    void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        int rows = logits.size(0), v = logits.size(1);
        Tensor t = targets(targets, ignoreIndex, rows, v), x = grad == logits ? logits : io().dense(logits);
        Tensor lo = io().target(losses, false), g = io().target(grad, false);
        run("ce_with_grad", rows, x, t, ignoreIndex, scale, lo, g, (long) rows, (long) v);
        io().finish(lo, losses);
        io().finish(g, grad);
    }

    void topK(Tensor x, int k, Tensor values, Tensor indices) {
        Tensor xd = io().dense(x), vo = io().target(values, false), io32 = io().target(indices, DType.I32, false);
        long v = x.size(-1), rows = v == 0 ? 0 : x.numel() / v;
        run("topk_f", rows, xd, rows, v, k, vo, io32);
        io().finish(vo, values);
        io().finish(io32, indices);
    }

    // ---- optimizer updates (elementwise.cl) ----------------------------------------------------------

    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        Tensor p = io().target(param, true), g = io().dense(grad), mm = io().target(m, true), vv = io().target(v, true);
        run("adamw_f", param.numel(), p, g, mm, vv, s.decay(), s.beta1Complement(), s.beta2(), s.beta2Complement(), s.bias2Sqrt(), s.eps(),
                s.stepSize(), param.numel());
        io().finish(p, param);
        io().finish(mm, m);
        io().finish(vv, v);
    }

    void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep s) {
        Tensor p = io().target(param, true), g = io().dense(grad), b = io().target(buf, true);
        run("sgd_f", param.numel(), p, g, opt(b), b == null ? 0 : 1, s.lr(), s.weightDecay(), s.momentum(), s.dampeningComplement(),
                s.nesterov() ? 1 : 0, s.first() ? 1 : 0, param.numel());
        io().finish(p, param);
        io().finish(b, buf);
    }
}
