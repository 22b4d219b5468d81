package org.jtune.tensor;

import org.jtune.tensor.cpu.CpuBackend;

/**
 * A device backend for testing the seams, not for speed: device "sim:0", whose memory is host memory
 * hidden behind an opaque {@link DeviceMemory} (so {@link Storage#segment()} of a sim tensor fails, as
 * for a GPU) and whose kernels unwrap their operands and run the CPU kernels. Running the conformance
 * suite on it checks that {@link Ops} allocates every output on the inputs' device, moves inputs into
 * an {@link Ops#using} scope, and that host reads copy back; every kernel refuses a host operand
 * (only {@link #copy} crosses between host and device), so an op that forgets to place an input fails.
 */
public final class SimulatedDevice implements Backend {
    public static final Device DEVICE = new Device("sim", 0);
    public static final SimulatedDevice INSTANCE = new SimulatedDevice();

    static {
        Device.register(INSTANCE);
    }

    /** The memory of a sim tensor: a heap storage the host never sees directly. */
    private record Memory(Storage hidden) implements DeviceMemory {
        public Device device() {
            return DEVICE;
        }

        public long byteSize() {
            return hidden.byteSize();
        }
    }

    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    private SimulatedDevice() {}

    @Override
    public String name() {
        return "sim";
    }

    @Override
    public Device device() {
        return DEVICE;
    }

    @Override
    public Storage allocateStorage(DType dtype, long numel) {
        return Storage.onDevice(new Memory(Storage.allocate(dtype, numel)));
    }

    /** Poisoned (every byte 0xFF: NaN as F32, −1 as I32): an op that leaves part of such an output unwritten fails its conformance case. */
    @Override
    public Storage allocateStorageForOverwrite(DType dtype, long numel) {
        Storage host = Storage.allocate(dtype, numel);
        host.segment().fill((byte) 0xFF);
        return Storage.onDevice(new Memory(host));
    }

    /** The host view of a sim tensor (same dtype, shape, strides, offset over the hidden memory); host tensors pass only where allowed. */
    private static Tensor h(Tensor t, boolean hostAllowed) {
        if (t == null) return null;
        if (t.storage().isHost()) {
            if (!hostAllowed) throw new AssertionError("a host tensor reached a sim kernel: " + t);
            return t;
        }
        if (!(t.storage().deviceMemory() instanceof Memory m)) throw new AssertionError("foreign device memory: " + t);
        return new Tensor(m.hidden(), t.dtype(), t.shape(), t.strides(), t.offset());
    }

    private static Tensor h(Tensor t) {
        return h(t, false);
    }

    private static AttentionMask h(AttentionMask mask) {
        return mask.segments() == null ? mask : mask.withSegments(h(mask.segments()));
    }

    @Override public void copy(Tensor src, Tensor dst) { CPU.copy(h(src, true), h(dst, true)); }
    @Override public void fill(Tensor dst, float value) { CPU.fill(h(dst), value); }
    @Override public void unary(UnaryOp op, Tensor x, Tensor out) { CPU.unary(op, h(x), h(out)); }
    @Override public void unaryBackward(UnaryOp op, Tensor saved, Tensor g, Tensor out) { CPU.unaryBackward(op, h(saved), h(g), h(out)); }
    @Override public void affine(Tensor x, float a, float b, Tensor out) { CPU.affine(h(x), a, b, h(out)); }
    @Override public void powScalar(Tensor x, float p, Tensor out) { CPU.powScalar(h(x), p, h(out)); }
    @Override public void powScalarBackward(Tensor x, float p, Tensor g, Tensor out) { CPU.powScalarBackward(h(x), p, h(g), h(out)); }
    @Override public void clamp(Tensor x, float lo, float hi, Tensor out) { CPU.clamp(h(x), lo, hi, h(out)); }
    @Override public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) { CPU.binary(op, h(a), h(b), h(out)); }
    @Override public void where(Tensor cond, Tensor a, Tensor b, Tensor out) { CPU.where(h(cond), h(a), h(b), h(out)); }
    @Override public void swiglu(Tensor gate, Tensor up, Tensor out) { CPU.swiglu(h(gate), h(up), h(out)); }
    @Override public void swigluBackward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp) { CPU.swigluBackward(h(gate), h(up), h(g), h(dGate), h(dUp)); }
    @Override public void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) { CPU.reduce(op, h(x), dim, correction, h(out)); }
    @Override public void argmax(Tensor x, int dim, Tensor out) { CPU.argmax(h(x), dim, h(out)); }
    @Override public void sumTo(Tensor g, Tensor out) { CPU.sumTo(h(g), h(out)); }
    @Override public double sumOfSquares(Tensor x) { return CPU.sumOfSquares(h(x)); }
    @Override public void softmax(Tensor x, Tensor out) { CPU.softmax(h(x), h(out)); }
    @Override public void logSoftmax(Tensor x, Tensor out) { CPU.logSoftmax(h(x), h(out)); }
    @Override public void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out) { CPU.softmaxBackward(h(y), h(g), log, h(out)); }
    @Override public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) { CPU.matmul(h(a), h(b), h(out), accumulate); }
    @Override public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) { CPU.rmsNorm(h(x), h(weight), eps, h(out), h(rstd)); }
    @Override public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor g, Tensor dx, Tensor dw) { CPU.rmsNormBackward(h(x), h(weight), h(rstd), h(g), h(dx), h(dw)); }
    @Override public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) { CPU.layerNorm(h(x), h(weight), h(bias), eps, h(out)); }
    @Override public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) { CPU.rope(h(x), h(positions), h(invFreq), inverse, h(out)); }
    @Override public void embedding(Tensor weight, Tensor ids, Tensor out) { CPU.embedding(h(weight), h(ids), h(out)); }
    @Override public void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight) { CPU.embeddingBackward(h(g), h(ids), h(dWeight)); }
    @Override public void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) { CPU.indexSelect(h(x), dim, h(idx), h(out)); }
    @Override public void gather(Tensor x, int dim, Tensor idx, Tensor out) { CPU.gather(h(x), dim, h(idx), h(out)); }
    @Override public void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) { CPU.scatterAdd(h(dst), dim, h(idx), h(src)); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        CPU.attention(h(q), h(k), h(v), h(mask), scale, h(out), h(lse));
    }
    @Override public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                                            Tensor dq, Tensor dk, Tensor dv) {
        CPU.attentionBackward(h(q), h(k), h(v), h(out), h(lse), h(dOut), h(mask), scale, h(dq), h(dk), h(dv));
    }
    @Override public void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        CPU.crossEntropy(h(logits), h(targets), ignoreIndex, h(losses), h(lse));
    }
    @Override public void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        Tensor hl = h(logits);
        CPU.crossEntropyBackward(hl, h(targets), ignoreIndex, h(lse), scale, grad == logits ? hl : h(grad));
    }
    @Override public void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        Tensor hl = h(logits);
        CPU.crossEntropyWithGrad(hl, h(targets), ignoreIndex, scale, h(losses), grad == logits ? hl : h(grad));
    }
    @Override public void topK(Tensor x, int k, Tensor values, Tensor indices) { CPU.topK(h(x), k, h(values), h(indices)); }
    @Override public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) { CPU.adamw(h(param), h(grad), h(m), h(v), step); }
    @Override public void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step) { CPU.sgd(h(param), h(grad), h(buf), step); }
}
