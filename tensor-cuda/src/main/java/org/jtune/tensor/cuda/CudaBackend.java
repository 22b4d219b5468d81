package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static org.jtune.tensor.DType.F32;

import java.lang.foreign.MemorySegment;
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
import org.jtune.tensor.cpu.CpuBackend;

/**
 * The CUDA backend of device {@code cuda:N}: memory from a {@link CudaMemoryPool}, host↔device copies
 * through {@link PinnedStaging}, GEMM through cuBLAS ({@link CudaGemm}), and our own kernels
 * ({@code src/main/cuda}, launched through {@link CudaContext}) for everything else; the row, loss,
 * attention, embedding and optimizer kernels are in {@link CudaModelOps}. Inputs in any layout or 16-bit
 * type are densified on the device first ({@link CudaTensors}). indexSelect, gather, scatterAdd and topK
 * (not on the training or decode path) run on the host through the CPU backend, copying both ways.
 */
public final class CudaBackend implements Backend {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;
    final CudaContext context;
    private final Device device;
    private final CudaMemoryPool pool;
    final PinnedStaging staging;
    final CudaTensors tensors;
    private final CudaGemm gemm;
    private final CudaModelOps model;

    private CudaBackend(CudaContext context) {
        this.context = context;
        this.device = new Device("cuda", context.index());
        this.pool = new CudaMemoryPool(context, device, context.totalMemory() / 4);
        this.staging = new PinnedStaging(context);
        this.tensors = new CudaTensors(this);
        this.gemm = new CudaGemm(this, new Cublas(context.stream().handle()));
        this.model = new CudaModelOps(this, gemm);
    }

    /** Starts device cuda:{@code index} (not registered: see {@link Device#register}); an error says why it cannot. */
    public static CudaBackend open(int index) throws CudaUnavailableException {
        CudaContext ctx = CudaContext.open(index);
        try {
            return new CudaBackend(ctx);
        } catch (RuntimeException | LinkageError e) {
            throw new CudaUnavailableException("cuda:" + index + " could not start: " + CudaDriver.firstLine(e), e);
        }
    }

    @Override
    public String name() {
        return device + " (" + context.name() + ", sm_" + context.arch() + " PTX)";
    }

    @Override
    public Device device() {
        return device;
    }

    public CudaContext context() {
        return context;
    }

    /**
     * Autocast for matrix products: an F32 operand meeting a BF16/F16 one is rounded to the 16-bit type so
     * the product runs on the tensor cores (F32 accumulation). Off by default (the conformance suite's exact
     * F32 products); the device benchmark times both.
     */
    public void mixedPrecisionGemm(boolean on) {
        gemm.mixedPrecision = on;
    }

    /** cuBLAS's own rate on square n×n×n products of {@code type} (BF16, F16, F32 operands; F32 out), TFLOP/s. */
    public double cublasTflops(int n, DType type, int reps) {
        return gemm.cublasTflops(n, type, reps);
    }

    /**
     * Starts ({@code on}) or stops profiling: while on, each queued call's device time and each stalling host
     * call are recorded ({@link CudaProfiler}); {@link #profileReport} reads them.
     */
    public void profile(boolean on) {
        if (on) {
            CudaProfiler p = new CudaProfiler();
            synchronize();
            p.start();
            context.profiler = p;
        } else {
            context.profiler = null;
        }
    }

    /** What was recorded since {@link #profile}(true): wall and device-busy time, the {@code top} calls by device time. */
    public java.util.Map<String, Object> profileReport(int top) {
        CudaProfiler p = context.profiler;
        if (p == null) throw new IllegalStateException("profiling is off: call profile(true) first");
        synchronize();
        return p.report(top);
    }

    /** Waits for every queued kernel and copy (timing, tests). */
    public void synchronize() {
        context.synchronize();
    }

    // ---- memory and copies ---------------------------------------------------------------------

    @Override
    public Storage allocateStorage(DType dtype, long numel) {
        Storage s = allocateUninitialised(dtype, numel);
        CudaMemory m = (CudaMemory) s.deviceMemory();
        context.queued("memset", () -> cuMemsetD8Async(m.pointer(), (byte) 0, m.byteSize(), context.stream()));
        return s;
    }

    /**
     * No zero-fill: one memset launch less per op output (about half the launches of a decoded token). With
     * {@code -Djtune.cuda.poisonOutputs=true} (the device conformance run) the bytes are set to 0xFF instead, so
     * an op that leaves an element of its output unwritten shows NaN (F32) or −1 (I32) to the tests.
     */
    @Override
    public Storage allocateStorageForOverwrite(DType dtype, long numel) {
        Storage s = allocateUninitialised(dtype, numel);
        if (POISON_OUTPUTS) {
            CudaMemory m = (CudaMemory) s.deviceMemory();
            context.queued("memset", () -> cuMemsetD8Async(m.pointer(), (byte) 0xFF, m.byteSize(), context.stream()));
        }
        return s;
    }

    private static final boolean POISON_OUTPUTS = Boolean.getBoolean("jtune.cuda.poisonOutputs");

    Storage allocateUninitialised(DType dtype, long numel) {
        return Storage.onDevice(pool.allocate(numel * dtype.byteSize()));
    }

    DevicePointer pointer(Tensor t) {
        return ((CudaMemory) t.storage().deviceMemory()).pointer().plus(t.offset() * t.dtype().byteSize());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        try (var s = tensors.scope()) {
            copyScoped(src, dst);
        }
    }

    private void copyScoped(Tensor src, Tensor dst) {
        boolean fromDevice = !src.storage().isHost(), toDevice = !dst.storage().isHost();
        if (fromDevice && toDevice) {
            copyOnDevice(src, dst);
        } else if (toDevice) {
            Tensor h = src.isContiguous() ? src : src.contiguous();
            Tensor landing = h.dtype() == dst.dtype() && dst.isContiguous() ? dst : tensors.temp(h.dtype(), h.shape());
            staging.upload(hostBytes(h), pointer(landing));
            if (landing != dst) copyOnDevice(landing, dst);
        } else if (fromDevice) {
            Tensor d = tensors.dense(src, src.dtype());
            if (dst.isContiguous() && dst.dtype() == src.dtype()) {
                staging.download(pointer(d), hostBytes(dst));
            } else {
                Tensor h = new Tensor(Storage.allocate(src.dtype(), src.numel()), src.dtype(), src.shape(),
                        Tensor.contiguousStrides(src.shape()), 0);
                staging.download(pointer(d), hostBytes(h));
                CPU.copy(h, dst);
            }
        } else {
            CPU.copy(src, dst);
        }
    }

    private static MemorySegment hostBytes(Tensor t) {
        long bs = t.dtype().byteSize();
        return t.storage().segment().asSlice(t.offset() * bs, t.numel() * bs);
    }

    /** dst ← src, both on this device, any layouts, converting dtypes (F32, F16, BF16, I32; other types contiguous only). */
    void copyOnDevice(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            context.queued("memcpy_d2d", () -> cuMemcpyDtoDAsync(pointer(dst), pointer(src), src.numel() * src.dtype().byteSize(),
                    context.stream()));
            return;
        }
        context.launch(CudaKernels.COPY_STRIDED, LaunchConfig.gridStride(src.numel(), context.multiprocessors()),
                tensors.address(src), CudaDType.code(src.dtype()), 0L, tensors.address(dst), CudaDType.code(dst.dtype()), 0L, src.numel(),
                CudaLayouts.strided(src.shape(), src.strides(), dst.strides()));
    }

    @Override
    public void fill(Tensor dst, float value) {
        if (dst.numel() == 0) return;
        if (value == 0f && dst.isContiguous()) {
            context.queued("memset", () -> cuMemsetD8Async(pointer(dst), (byte) 0, dst.numel() * dst.dtype().byteSize(), context.stream()));
            return;
        }
        if (dst.dtype() == F32 && dst.isContiguous()) {
            context.queued("memset", () -> cuMemsetD32Async(pointer(dst), Float.floatToRawIntBits(value), dst.numel(), context.stream()));
            return;
        }
        context.launch(CudaKernels.FILL_STRIDED, LaunchConfig.gridStride(dst.numel(), context.multiprocessors()),
                tensors.address(dst), CudaDType.code(dst.dtype()), 0L, dst.numel(), value,
                CudaLayouts.strided(dst.shape(), dst.strides(), dst.strides()));
    }

    // ---- elementwise ---------------------------------------------------------------------------

    private LaunchConfig flat(long n) {
        return LaunchConfig.gridStride(n, context.multiprocessors());
    }

    /**
     * out ← kernel(inputs) elementwise over out's n elements: the kernel takes the inputs' dense F32 pointers,
     * out's pointer, n, then {@code scalars} (the signature every single-output pointwise kernel shares).
     */
    private void pointwise(KernelSpec kernel, Tensor out, Object[] scalars, Tensor... inputs) {
        long n = out.numel();
        if (n == 0) return;
        try (var s = tensors.scope()) {
            Object[] args = new Object[inputs.length + 2 + scalars.length];
            for (int i = 0; i < inputs.length; i++) args[i] = tensors.denseF32(inputs[i]);
            CudaTensors.Out o = tensors.out(out, F32, false);
            args[inputs.length] = o.ptr;
            args[inputs.length + 1] = n;
            System.arraycopy(scalars, 0, args, inputs.length + 2, scalars.length);
            context.launch(kernel, flat(n), args);
            o.finish();
        }
    }

    private static final Object[] NO_SCALARS = {};

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        pointwise(CudaKernels.UNARY, out, new Object[] {op.ordinal()}, x);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor saved, Tensor g, Tensor out) {
        pointwise(CudaKernels.UNARY_BACKWARD, out, new Object[] {op.ordinal()}, saved, g);
    }

    @Override
    public void affine(Tensor x, float a, float b, Tensor out) {
        pointwise(CudaKernels.AFFINE, out, new Object[] {a, b}, x);
    }

    @Override
    public void powScalar(Tensor x, float p, Tensor out) {
        pointwise(CudaKernels.POW, out, new Object[] {p}, x);
    }

    @Override
    public void powScalarBackward(Tensor x, float p, Tensor g, Tensor out) {
        pointwise(CudaKernels.POW_BACKWARD, out, new Object[] {p}, x, g);
    }

    @Override
    public void clamp(Tensor x, float lo, float hi, Tensor out) {
        pointwise(CudaKernels.CLAMP, out, new Object[] {lo, hi}, x);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        pointwise(CudaKernels.BINARY, out, new Object[] {op.ordinal()}, a, b);
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        pointwise(CudaKernels.WHERE, out, NO_SCALARS, cond, a, b);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        pointwise(CudaKernels.SWIGLU, out, NO_SCALARS, gate, up);
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp) {
        long n = gate.numel();
        if (n == 0 || (dGate == null && dUp == null)) return;
        try (var s = tensors.scope()) {
            long gp = tensors.denseF32(gate), upp = tensors.denseF32(up), gr = tensors.denseF32(g);
            CudaTensors.Out a = tensors.out(dGate, F32, false), b = tensors.out(dUp, F32, false);
            context.launch(CudaKernels.SWIGLU_BACKWARD, flat(n), gp, upp, gr, a.ptr, b.ptr, n);
            a.finish();
            b.finish();
        }
    }

    // ---- reductions, rows, matmul: CudaModelOps and CudaGemm -----------------------------------

    @Override public void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) { try (var s = tensors.scope()) { model.reduce(op, x, dim, correction, out); } }
    @Override public void argmax(Tensor x, int dim, Tensor out) { try (var s = tensors.scope()) { model.argmax(x, dim, out); } }
    @Override public void sumTo(Tensor g, Tensor out) { try (var s = tensors.scope()) { model.sumTo(g, out); } }
    @Override public double sumOfSquares(Tensor x) { try (var s = tensors.scope()) { return model.sumOfSquares(x); } }
    @Override public void softmax(Tensor x, Tensor out) { try (var s = tensors.scope()) { model.softmax(x, out, false); } }
    @Override public void logSoftmax(Tensor x, Tensor out) { try (var s = tensors.scope()) { model.softmax(x, out, true); } }
    @Override public void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out) { try (var s = tensors.scope()) { model.softmaxBackward(y, g, log, out); } }
    @Override public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) { try (var s = tensors.scope()) { gemm.matmul(a, b, out, accumulate); } }
    @Override public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out, Tensor rstd) { try (var s = tensors.scope()) { model.rmsNorm(x, w, eps, out, rstd); } }
    @Override public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor g, Tensor dx, Tensor dw) { try (var s = tensors.scope()) { model.rmsNormBackward(x, w, rstd, g, dx, dw); } }
    @Override public void layerNorm(Tensor x, Tensor w, Tensor bias, float eps, Tensor out) { try (var s = tensors.scope()) { model.layerNorm(x, w, bias, eps, out); } }
    @Override public void rope(Tensor x, Tensor pos, Tensor invFreq, boolean inverse, Tensor out) { try (var s = tensors.scope()) { model.rope(x, pos, invFreq, inverse, out); } }
    @Override public void embedding(Tensor weight, Tensor ids, Tensor out) { try (var s = tensors.scope()) { model.embedding(weight, ids, out); } }
    @Override public void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight) { try (var s = tensors.scope()) { model.embeddingBackward(g, ids, dWeight); } }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        if (q.size(3) > LaunchConfig.ATT_MAX_D) {
            Tensor ho = host(out), hl = host(lse);
            CPU.attention(host(q), host(k), host(v), hostMask(mask), scale, ho, hl);
            back(ho, out);
            back(hl, lse);
            return;
        }
        try (var s = tensors.scope()) {
            model.attention(q, k, v, mask, scale, out, lse);
        }
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                                  Tensor dq, Tensor dk, Tensor dv) {
        if (q.size(3) > LaunchConfig.ATT_MAX_D) {
            Tensor hq = host(dq), hk = host(dk), hv = host(dv);
            CPU.attentionBackward(host(q), host(k), host(v), host(out), host(lse), host(dOut), hostMask(mask), scale, hq, hk, hv);
            back(hq, dq);
            back(hk, dk);
            back(hv, dv);
            return;
        }
        try (var s = tensors.scope()) {
            model.attentionBackward(q, k, v, out, lse, dOut, mask, scale, dq, dk, dv);
        }
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        try (var s = tensors.scope()) {
            model.crossEntropy(logits, targets, ignoreIndex, losses, lse);
        }
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        try (var s = tensors.scope()) {
            model.crossEntropyBackward(logits, targets, ignoreIndex, lse, scale, grad);
        }
    }

    @Override
    public void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        try (var s = tensors.scope()) {
            model.crossEntropyWithGrad(logits, targets, ignoreIndex, scale, losses, grad);
        }
    }

    @Override public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) { try (var s = tensors.scope()) { model.adamw(param, grad, m, v, step); } }
    @Override public void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step) { try (var s = tensors.scope()) { model.sgd(param, grad, buf, step); } }

    // ---- on the host (not on the training or decode path) --------------------------------------

    @Override
    public void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) {
        Tensor ho = host(out);
        CPU.indexSelect(host(x), dim, host(idx), ho);
        back(ho, out);
    }

    @Override
    public void gather(Tensor x, int dim, Tensor idx, Tensor out) {
        Tensor ho = host(out);
        CPU.gather(host(x), dim, host(idx), ho);
        back(ho, out);
    }

    @Override
    public void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        Tensor hd = host(dst);
        CPU.scatterAdd(hd, dim, host(idx), host(src));
        back(hd, dst);
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        Tensor hv = host(values), hi = host(indices);
        CPU.topK(host(x), k, hv, hi);
        back(hv, values);
        back(hi, indices);
    }

    /** A host copy of a device tensor (null stays null). */
    Tensor host(Tensor t) {
        return t == null || t.storage().isHost() ? t : t.to(Device.CPU);
    }

    private AttentionMask hostMask(AttentionMask m) {
        return m.segments() == null ? m : m.withSegments(host(m.segments()));
    }

    private void back(Tensor hostCopy, Tensor target) {
        if (target != null && hostCopy != target) copy(hostCopy, target);
    }
}
