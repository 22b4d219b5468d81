package org.jtune.tensor.opencl;

import java.lang.foreign.MemorySegment;
import org.jocl.Pointer;
import org.jtune.tensor.DType;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * Moving tensor data for the OpenCL backend: host ↔ device copies of any layout and dtype (the host side
 * staged contiguous by the CPU backend where needed, the device side through the copy kernels), device
 * copies over any layout (the same bits when the dtypes agree, else converted as {@code Half} rounds),
 * and the two shapes the kernels want: {@link #dense} (a contiguous F32 view of an input, copied only when
 * it is not one already) and {@link #target}/{@link #finish} (a contiguous output a kernel writes, copied
 * into a strided or 16-bit output afterwards).
 */
final class ClTransfers {
    private final ClContext cl;
    private final OpenClBackend be;

    ClTransfers(ClContext cl, OpenClBackend be) {
        this.cl = cl;
        this.be = be;
    }

    static ClMemory memory(Tensor t) {
        Storage s = t.storage();
        if (s.isHost()) throw new IllegalStateException("a host tensor reached an OpenCL kernel: " + t);
        if (!(s.deviceMemory() instanceof ClMemory m)) throw new IllegalStateException("memory of another device reached an OpenCL kernel: " + t);
        return m;
    }

    /** [rank, shape, strides] of t's view, as a device buffer for loff(). */
    ClMemory layout(Tensor t) {
        int r = t.rank();
        long[] l = new long[1 + 2 * r];
        l[0] = r;
        for (int d = 0; d < r; d++) {
            l[1 + d] = t.size(d);
            l[1 + r + d] = t.stride(d);
        }
        return cl.constants(l);
    }

    /** t as a contiguous tensor of {@code dtype} on the device: itself when it is one, else a copy. */
    Tensor dense(Tensor t, DType dtype) {
        if (t == null) return null;
        if (t.dtype() == dtype && t.isContiguous()) return t;
        Tensor out = be.allocate(dtype, t.shape());
        deviceCopy(t, out);
        return out;
    }

    Tensor dense(Tensor t) {
        return dense(t, DType.F32);
    }

    /** What a kernel writes for output {@code out}: out itself when contiguous F32 (or I32 when asked), else a scratch tensor. */
    Tensor target(Tensor out, DType dtype, boolean readsOut) {
        if (out == null) return null;
        if (out.dtype() == dtype && out.isContiguous()) return out;
        return readsOut ? dense(out, dtype) : be.allocate(dtype, out.shape());
    }

    Tensor target(Tensor out, boolean readsOut) {
        return target(out, DType.F32, readsOut);
    }

    /** Copies a scratch target into its output (nothing when the kernel wrote the output itself). */
    void finish(Tensor written, Tensor out) {
        if (written != null && written != out) deviceCopy(written, out);
    }

    /** dst ← src, both on this device, any layouts, converting dtypes. */
    void deviceCopy(Tensor src, Tensor dst) {
        long n = src.numel();
        if (n == 0) return;
        int es = src.dtype().byteSize();
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            cl.copyBytes(memory(src).mem, src.offset() * es, memory(dst).mem, dst.offset() * es, n * es);
        } else if (src.dtype() == dst.dtype()) {
            cl.launch("copy_raw_" + es, n, memory(src), src.offset(), layout(src), memory(dst), dst.offset(), layout(dst), n);
        } else {
            cl.launch("copy_convert", n, memory(src), src.offset(), OpenClBackend.code(src.dtype()), layout(src),
                    memory(dst), dst.offset(), OpenClBackend.code(dst.dtype()), layout(dst), n);
        }
    }

    /** dst (on the device) ← src (host, any layout and dtype). */
    void toDevice(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        Tensor staged = src.isContiguous() && src.dtype() == dst.dtype() ? src : hostCopy(src, dst.dtype());
        Tensor into = dst.isContiguous() ? dst : be.allocate(dst.dtype(), dst.shape());
        int es = dst.dtype().byteSize();
        cl.write(memory(into).mem, into.offset() * es, host(staged), staged.numel() * es);
        finish(into, dst);
    }

    /** dst (host, any layout and dtype) ← src (on the device). */
    void toHost(Tensor src, Tensor dst) {
        if (src.numel() == 0) return;
        Tensor from = src.isContiguous() ? src : dense(src, src.dtype());
        boolean direct = dst.isContiguous() && dst.dtype() == src.dtype();
        Tensor staged = direct ? dst : CpuBackend.INSTANCE.allocate(src.dtype(), src.shape());
        int es = src.dtype().byteSize();
        cl.read(memory(from).mem, from.offset() * es, host(staged), from.numel() * es);
        if (!direct) CpuBackend.INSTANCE.copy(staged, dst);
    }

    private static Tensor hostCopy(Tensor src, DType dtype) {
        Tensor out = CpuBackend.INSTANCE.allocate(dtype, src.shape());
        CpuBackend.INSTANCE.copy(src, out);
        return out;
    }

    /** A JOCL pointer to the first element of a contiguous host tensor (heap array or native segment). */
    private static Pointer host(Tensor t) {
        MemorySegment seg = t.storage().segment();
        long byteOffset = t.offset() * t.dtype().byteSize();
        Object base = seg.heapBase().orElse(null);
        if (base == null) return Pointer.to(seg.asSlice(byteOffset, t.numel() * t.dtype().byteSize()).asByteBuffer());
        long at = seg.address() + byteOffset; // a heap segment's address is its offset in the array
        return switch (base) {
            case float[] a -> Pointer.to(a).withByteOffset(at);
            case short[] a -> Pointer.to(a).withByteOffset(at);
            case int[] a -> Pointer.to(a).withByteOffset(at);
            case byte[] a -> Pointer.to(a).withByteOffset(at);
            case long[] a -> Pointer.to(a).withByteOffset(at);
            case double[] a -> Pointer.to(a).withByteOffset(at);
            case char[] a -> Pointer.to(a).withByteOffset(at);
            default -> throw new IllegalStateException("host memory backed by " + base.getClass().getSimpleName() + " cannot be copied to OpenCL");
        };
    }
}
