package org.jtune.tensor.cuda;

import org.jtune.tensor.DType;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * How the CUDA kernels see tensors: every kernel but the strided copy reads and writes contiguous F32
 * (or I32) arrays, so inputs in any layout or 16-bit type are densified into a temporary buffer by one
 * {@code copy_strided} launch ({@link #dense}), and an output that is not contiguous F32 is computed into a
 * temporary and written back through its strides ({@link Out#finish}). Temporaries come from the pool;
 * the stream orders their reuse after the kernels that read them.
 */
final class CudaTensors {
    private final CudaBackend backend;
    /** This thread's open scopes and their temporaries, oldest first. */
    private static final class Pins {
        int depth;
        final java.util.ArrayList<Tensor> temps = new java.util.ArrayList<>();
    }

    private static final ThreadLocal<Pins> PINS = ThreadLocal.withInitial(Pins::new);

    CudaTensors(CudaBackend backend) {
        this.backend = backend;
    }

    /** The device address of t's first element (t on this backend's device). */
    long address(Tensor t) {
        if (t.storage().isHost()) throw new IllegalArgumentException("cuda kernel got a host tensor " + t + ": place it on the device first");
        if (!(t.storage().deviceMemory() instanceof CudaMemory m)) {
            throw new IllegalArgumentException("tensor on " + t.device() + " is not cuda memory");
        }
        return m.address() + t.offset() * t.dtype().byteSize();
    }

    /** A contiguous tensor of {@code dtype} with t's values: t itself when it already is one. */
    Tensor dense(Tensor t, DType dtype) {
        if (t.dtype() == dtype && t.isContiguous()) return t;
        Tensor d = temp(dtype, t.shape());
        backend.copyOnDevice(t, d);
        return d;
    }

    long denseF32(Tensor t) {
        return address(dense(t, DType.F32));
    }

    /** denseF32 whose address is 16-byte aligned (vector loads): a contiguous view at an odd offset is copied. */
    long denseF32Aligned(Tensor t) {
        Tensor d = dense(t, DType.F32);
        if (address(d) % 16 != 0) {
            Tensor c = temp(DType.F32, t.shape());
            backend.copyOnDevice(d, c);
            d = c;
        }
        return address(d);
    }

    long denseI32(Tensor t) {
        return address(dense(t, DType.I32));
    }

    /** denseF32, or 0 (a null pointer) for a null tensor. */
    long denseF32OrNull(Tensor t) {
        return t == null ? 0L : denseF32(t);
    }

    Tensor temp(DType dtype, int... shape) {
        Storage s = backend.allocateUninitialised(dtype, Tensor.numel(shape));
        Tensor t = new Tensor(s, dtype, shape, Tensor.contiguousStrides(shape), 0);
        Pins pins = PINS.get();
        if (pins.depth > 0) pins.temps.add(t); // outside every scope the collector returns it, as before scopes existed
        return t;
    }

    /** One op's temporaries: those made on this thread until close() go back to the pool then (innermost first). */
    Scope scope() {
        Pins pins = PINS.get();
        pins.depth++;
        return new Scope(pins.temps.size());
    }

    /** The temporaries made after {@code mark}; closing gives them back. */
    record Scope(int mark) implements AutoCloseable {
        @Override
        public void close() {
            Pins pins = PINS.get();
            pins.depth--;
            for (int i = pins.temps.size() - 1; i >= mark; i--) {
                ((CudaMemory) pins.temps.remove(i).storage().deviceMemory()).release();
            }
        }
    }

    /** Where a kernel writes {@code target} (of {@code dtype} contiguous): the target itself or a temporary copied back by finish(). */
    Out out(Tensor target, DType dtype, boolean keepValues) {
        if (target == null) return new Out(null, null, 0L);
        if (target.dtype() == dtype && target.isContiguous()) return new Out(target, target, address(target));
        Tensor t = keepValues ? dense(target, dtype) : temp(dtype, target.shape());
        return new Out(target, t, address(t));
    }

    /** out(target, F32, false) at a 16-byte aligned address (a temporary copied back when the target is not). */
    Out outAligned(Tensor target) {
        Out o = out(target, DType.F32, false);
        if (o.ptr % 16 == 0) return o;
        Tensor t = temp(DType.F32, target.shape());
        return new Out(target, t, address(t));
    }

    /** A kernel output: {@code ptr} is what the kernel writes (0 when not wanted); finish() lands it in the target. */
    final class Out {
        final Tensor target, buffer;
        final long ptr;

        Out(Tensor target, Tensor buffer, long ptr) {
            this.target = target;
            this.buffer = buffer;
            this.ptr = ptr;
        }

        void finish() {
            if (target != null && buffer != target) backend.copyOnDevice(buffer, target);
        }
    }

    /** The shape viewed as (rows, last dim). */
    static long rows(Tensor t) {
        int[] s = t.shape();
        return s.length == 0 ? 1 : t.numel() / Math.max(1, s[s.length - 1]);
    }

    static int lastDim(Tensor t) {
        int[] s = t.shape();
        return s.length == 0 ? 1 : s[s.length - 1];
    }

    /** t with dim moved last (a view). */
    static Tensor dimLast(Tensor t, int dim) {
        int r = t.rank();
        if (dim == r - 1) return t;
        int[] order = new int[r];
        for (int i = 0, j = 0; i < r; i++) if (i != dim) order[j++] = i;
        order[r - 1] = dim;
        return t.permute(order);
    }
}
