package org.jtune.tensor.opencl;

import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Backend;
import org.jtune.tensor.BinaryOp;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import org.jtune.tensor.ReduceOp;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;

/**
 * The {@link Backend} of an OpenCL device ({@code opencl:N}, through JOCL): memory is OpenCL buffers
 * ({@link ClMemory}), copies cross with {@link ClTransfers}, and every op runs an OpenCL C kernel of
 * {@code resources/org/jtune/tensor/opencl/*.cl} (named beside each method). Kernels read contiguous
 * F32 (strided, broadcast or 16-bit inputs are densified on the device first; GEMM and embedding read
 * 16-bit storage and any strides in place) and write contiguous outputs (copied into strided ones after).
 * Index inputs (targets, ids) are range-checked on the host before a kernel trusts them, so the error
 * names the row as the CPU's does. Written for correctness on any OpenCL 1.2 device (PoCL in CI), not speed.
 */
public final class OpenClBackend implements Backend {
    private static final Object NONE = new Object();

    private final ClContext cl;
    private final ClTransfers io;

    OpenClBackend(ClContext cl) {
        this.cl = cl;
        this.io = new ClTransfers(cl, this);
    }

    /** The dtype code of common.cl's ld/st. */
    static int code(DType d) {
        return switch (d) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case I32 -> 3;
            case I8 -> 4;
            case U8 -> 5;
            case BLOCK -> throw new UnsupportedOperationException("opencl: block-quantized tensors have no OpenCL kernels yet; run quantized weights on the CPU");
        };
    }

    @Override
    public String name() {
        return "opencl (" + cl.description + ")";
    }

    @Override
    public Device device() {
        return cl.device;
    }

    @Override
    public Storage allocateStorage(DType dtype, long numel) {
        if (numel < 0) throw new IllegalArgumentException(cl.device + ": cannot allocate " + numel + " elements");
        return Storage.onDevice(cl.allocate(numel * dtype.byteSize()));
    }

    /** Runs a kernel; a Tensor argument becomes (buffer, element offset), {@link #opt}(null) a null buffer. */
    private void run(String kernel, long n, Object... args) {
        cl.launch(kernel, n, flatten(args));
    }

    private static Object[] flatten(Object[] args) {
        List<Object> out = new ArrayList<>(args.length + 8);
        for (Object a : args) {
            if (a == NONE) {
                out.add(null);
                out.add(0L);
            } else if (a instanceof Tensor t) {
                out.add(ClTransfers.memory(t));
                out.add(t.offset());
            } else {
                out.add(a);
            }
        }
        return out.toArray();
    }

    private static Object opt(Tensor t) {
        return t == null ? NONE : t;
    }

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    // ---- memory ----------------------------------------------------------------------------------

    @Override
    public void copy(Tensor src, Tensor dst) {
        boolean sh = src.storage().isHost(), dh = dst.storage().isHost();
        if (sh && dh) org.jtune.tensor.cpu.CpuBackend.INSTANCE.copy(src, dst);
        else if (sh) io.toDevice(src, dst);
        else if (dh) io.toHost(src, dst);
        else io.deviceCopy(src, dst);
    }

    @Override // copy.cl fill_view
    public void fill(Tensor dst, float value) {
        long n = dst.numel();
        if (n > 0) run("fill_view", n, dst, code(dst.dtype()), io.layout(dst), n, value);
    }

    // ---- elementwise (elementwise.cl) ------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        run("unary_f", out.numel(), op.ordinal(), xd, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor saved, Tensor g, Tensor out) {
        Tensor s = io.dense(saved), gd = io.dense(g), o = io.target(out, false);
        run("unary_bwd", out.numel(), op.ordinal(), s, gd, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void affine(Tensor x, float a, float b, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        run("affine_f", out.numel(), xd, a, b, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void powScalar(Tensor x, float p, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        run("pow_f", out.numel(), xd, p, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void powScalarBackward(Tensor x, float p, Tensor g, Tensor out) {
        Tensor xd = io.dense(x), gd = io.dense(g), o = io.target(out, false);
        run("pow_bwd", out.numel(), xd, p, gd, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        run("clamp_f", out.numel(), xd, lo, hi, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Tensor ad = io.dense(a), bd = io.dense(b), o = io.target(out, false);
        run("binary_f", out.numel(), op.ordinal(), ad, bd, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        Tensor c = io.dense(cond), ad = io.dense(a), bd = io.dense(b), o = io.target(out, false);
        run("where_f", out.numel(), c, ad, bd, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        Tensor a = io.dense(gate), b = io.dense(up), o = io.target(out, false);
        run("swiglu_f", out.numel(), a, b, o, out.numel());
        io.finish(o, out);
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp) {
        Tensor a = io.dense(gate), b = io.dense(up), gd = io.dense(g);
        Tensor da = io.target(dGate, false), du = io.target(dUp, false);
        run("swiglu_bwd", gate.numel(), a, b, gd, opt(da), opt(du), flag(da != null), flag(du != null), gate.numel());
        io.finish(da, dGate);
        io.finish(du, dUp);
    }

    // ---- reductions (rows.cl) --------------------------------------------------------------------

    private static long prod(int[] shape, int from, int to) {
        long p = 1;
        for (int d = from; d < to; d++) p *= shape[d];
        return p;
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        int[] s = x.shape();
        long outer = prod(s, 0, dim), inner = prod(s, dim + 1, s.length);
        run("reduce_f", outer * inner, op.ordinal(), xd, outer, (long) s[dim], inner, correction, o);
        io.finish(o, out);
    }

    @Override
    public void argmax(Tensor x, int dim, Tensor out) {
        Tensor xd = io.dense(x), o = io.target(out, DType.I32, false);
        int[] s = x.shape();
        long outer = prod(s, 0, dim), inner = prod(s, dim + 1, s.length);
        if (s[dim] > 0) run("argmax_f", outer * inner, xd, outer, (long) s[dim], inner, o);
        io.finish(o, out);
    }

    @Override
    public void sumTo(Tensor g, Tensor out) {
        Tensor gd = io.dense(g), o = io.target(out, false);
        long nOut = out.numel();
        if (nOut > 0) run("sumto_f", nOut, gd, io.layout(gd), io.layout(o), o, nOut, g.numel() / nOut);
        io.finish(o, out);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        Tensor xd = io.dense(x);
        long n = x.numel(), chunk = 4096, chunks = (n + chunk - 1) / chunk;
        if (n == 0) return 0;
        Tensor partial = allocate(cl.fp64 ? DType.I32 : DType.F32, (int) (chunks * (cl.fp64 ? 2 : 1))); // doubles as pairs of ints
        run("sumsq_f", chunks, xd, n, chunk, ClTransfers.memory(partial));
        double s = 0;
        if (cl.fp64) {
            int[] bits = partial.toIntArray();
            for (int c = 0; c < chunks; c++) s += Double.longBitsToDouble((bits[2 * c] & 0xffffffffL) | ((long) bits[2 * c + 1] << 32));
        } else {
            for (float p : partial.toFloatArray()) s += p;
        }
        return s;
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        softmaxRows(x, out, false);
    }

    @Override
    public void logSoftmax(Tensor x, Tensor out) {
        softmaxRows(x, out, true);
    }

    private void softmaxRows(Tensor x, Tensor out, boolean log) {
        Tensor xd = io.dense(x), o = io.target(out, false);
        long n = x.rank() == 0 ? 1 : x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
        run("softmax_f", rows, xd, o, rows, n, flag(log));
        io.finish(o, out);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out) {
        Tensor yd = io.dense(y), gd = io.dense(g), o = io.target(out, false);
        long n = y.size(-1), rows = n == 0 ? 0 : y.numel() / n;
        run("softmax_bwd", rows, yd, gd, o, rows, n, flag(log));
        io.finish(o, out);
    }

    // ---- matmul and norms ----------------------------------------------------------------------

    @Override // gemm.cl gemm_tiled, one launch per batch entry
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        Tensor o = out.dtype() == DType.F32 ? out : io.target(out, accumulate);
        Tensor ad = a.dtype().isFloating() ? a : io.dense(a), bd = b.dtype().isFloating() ? b : io.dense(b);
        int r = out.rank(), m = out.size(r - 2), n = out.size(r - 1), k = a.size(r - 1);
        long batches = prod(out.shape(), 0, r - 2);
        long[] global = {roundUp(n, 16), roundUp(m, 16)}, local = {16, 16};
        for (long bi = 0; bi < batches && m > 0 && n > 0; bi++) {
            long rest = bi, aOff = ad.offset(), bOff = bd.offset(), oOff = o.offset();
            for (int d = r - 3; d >= 0; d--) {
                long c = rest % out.size(d);
                rest /= out.size(d);
                aOff += c * ad.stride(d);
                bOff += c * bd.stride(d);
                oOff += c * o.stride(d);
            }
            cl.launch("gemm_tiled", global, local, ClTransfers.memory(ad), aOff, code(ad.dtype()), ad.stride(r - 2), ad.stride(r - 1),
                    ClTransfers.memory(bd), bOff, code(bd.dtype()), bd.stride(r - 2), bd.stride(r - 1),
                    ClTransfers.memory(o), oOff, o.stride(r - 2), o.stride(r - 1), m, n, k, flag(accumulate));
        }
        io.finish(o, out);
    }

    private static long roundUp(long v, long to) {
        return Math.max(to, (v + to - 1) / to * to);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        Tensor xd = io.dense(x), w = io.dense(weight), o = io.target(out, false), rs = io.target(rstd, false);
        long n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
        run("rmsnorm_f", rows, xd, w, eps, o, opt(rs), flag(rs != null), rows, n);
        io.finish(o, out);
        io.finish(rs, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor g, Tensor dx, Tensor dw) {
        Tensor xd = io.dense(x), w = io.dense(weight), rs = io.dense(rstd), gd = io.dense(g);
        long n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
        if (dx != null) {
            Tensor o = io.target(dx, false);
            run("rmsnorm_bwd_dx", rows, xd, w, rs, gd, o, rows, n);
            io.finish(o, dx);
        }
        if (dw != null) {
            Tensor o = io.target(dw, false);
            run("rmsnorm_bwd_dw", n, xd, rs, gd, o, rows, n);
            io.finish(o, dw);
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        Tensor xd = io.dense(x), w = io.dense(weight), b = io.dense(bias), o = io.target(out, false);
        long n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
        run("layernorm_f", rows, xd, w, opt(b), flag(b != null), eps, o, rows, n);
        io.finish(o, out);
    }

    @Override
    public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) {
        Tensor xd = io.dense(x), p = io.dense(positions, DType.I32), f = io.dense(invFreq), o = io.target(out, false);
        long bt = (long) x.size(0) * x.size(1), h = x.size(2), d = x.size(3);
        run("rope_f", bt * h * (d / 2), xd, p, f, flag(inverse), o, bt, h, d);
        io.finish(o, out);
    }

    // ---- indexing, attention, loss, top-k, optimizers: OpenClKernels ----------------------------

    private final OpenClKernels more = new OpenClKernels(this);

    ClTransfers io() {
        return io;
    }

    ClContext cl() {
        return cl;
    }

    void launch(String kernel, long n, Object... args) {
        run(kernel, n, args);
    }

    static Object optional(Tensor t) {
        return opt(t);
    }

    @Override public void embedding(Tensor weight, Tensor ids, Tensor out) { more.embedding(weight, ids, out); }
    @Override public void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight) { more.embeddingBackward(g, ids, dWeight); }
    @Override public void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) { more.indexSelect(x, dim, idx, out); }
    @Override public void gather(Tensor x, int dim, Tensor idx, Tensor out) { more.gather(x, dim, idx, out); }
    @Override public void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) { more.scatterAdd(dst, dim, idx, src); }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        more.attention(q, k, v, mask, scale, out, lse);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                                  Tensor dq, Tensor dk, Tensor dv) {
        more.attentionBackward(q, k, v, out, lse, dOut, mask, scale, dq, dk, dv);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        more.crossEntropy(logits, targets, ignoreIndex, losses, lse);
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        more.crossEntropyBackward(logits, targets, ignoreIndex, lse, scale, grad);
    }

    @Override
    public void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        more.crossEntropyWithGrad(logits, targets, ignoreIndex, scale, losses, grad);
    }

    @Override public void topK(Tensor x, int k, Tensor values, Tensor indices) { more.topK(x, k, values, indices); }
    @Override public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) { more.adamw(param, grad, m, v, step); }
    @Override public void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step) { more.sgd(param, grad, buf, step); }
}
