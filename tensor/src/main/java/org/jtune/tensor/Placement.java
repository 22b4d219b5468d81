package org.jtune.tensor;

import java.util.function.Supplier;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * Which backend runs an op, and where its inputs must be ("device follows data", as in PyTorch):
 * the backend of the device of the op's primary input (its first data operand) runs it and
 * allocates its outputs, unless an {@link Ops#using} scope names a backend, which then runs every op
 * of the scope. The other inputs must be on the same device, except:
 * <ul>
 * <li>auxiliary inputs — index tensors (ids, positions, targets, segment ids) and small constant
 *     tables (RoPE frequencies) — and single-element tensors, which are copied to the primary device
 *     (they are small, and callers build them on the host);
 * <li>inside a {@link Ops#using} scope, where every input is copied to the scope's device with its
 *     layout kept (strides and offset), so the conformance suite runs a device backend on the same
 *     non-contiguous views as the CPU.
 * </ul>
 * Any other data operand on another device is an error naming both devices: moving a weight or an
 * activation silently would hide a transfer on every step, so the caller moves it once, explicitly,
 * with {@link Tensor#to(Device)}.
 */
final class Placement {
    private static final ScopedValue<Backend> SCOPE = ScopedValue.newInstance();

    private Placement() {}

    static <T> T using(Backend backend, Supplier<T> body) {
        return ScopedValue.where(SCOPE, backend).call(body::get);
    }

    /** The backend that runs an op whose primary input is {@code primary}. */
    static Backend of(Tensor primary) {
        if (SCOPE.isBound()) return SCOPE.get();
        Storage s = primary.storage();
        return s.isHost() ? CpuBackend.INSTANCE : s.device().backend();
    }

    /**
     * The backend for an op whose operands are interchangeable in placement (a binary op): that of
     * the first with more than one element, so a one-element host tensor on either side follows the data.
     */
    static Backend of(Tensor first, Tensor... others) {
        if (first.numel() > 1) return of(first);
        for (Tensor t : others) if (t.numel() > 1) return of(t);
        return of(first);
    }

    /** The backend that owns t's memory, which runs the ops that write into t in place (whatever the scope). */
    static Backend owner(Tensor t) {
        Storage s = t.storage();
        return s.isHost() ? CpuBackend.INSTANCE : s.device().backend();
    }

    /** The backend that creates a tensor without inputs: the scope's, else the CPU's. */
    static Backend forCreation() {
        return SCOPE.orElse(CpuBackend.INSTANCE);
    }

    /** A data operand of {@code op} on be's device (see the class comment for when it is moved). */
    static Tensor data(String op, Backend be, Tensor t) {
        if (t == null || onDevice(t, be.device())) return t;
        boolean scoped = SCOPE.isBound();
        if (!scoped && t.numel() > 1) {
            throw new IllegalArgumentException(op + ": inputs on different devices: " + be.device() + " and " + t.device() + " (" + t
                    + "); move it once with tensor.to(Device.parse(\"" + be.device() + "\"))");
        }
        return move(t, be, scoped);
    }

    /** An auxiliary input (indices, positions, frequencies) on be's device, copied there when it is elsewhere. */
    static Tensor aux(Backend be, Tensor t) {
        if (t == null || onDevice(t, be.device())) return t;
        return move(t, be, SCOPE.isBound());
    }

    private static boolean onDevice(Tensor t, Device d) {
        Storage s = t.storage();
        return s.isHost() ? d.isHost() : s.device().equals(d);
    }

    /**
     * t's values on be's device: a contiguous copy, or (keepLayout) a copy of its whole storage viewed
     * with t's strides and offset.
     */
    private static Tensor move(Tensor t, Backend be, boolean keepLayout) {
        if (!keepLayout) {
            Tensor out = be.allocate(t.dtype(), t.shape());
            copy(t, out);
            return out;
        }
        DType dt = t.dtype();
        long elements = t.storage().byteSize() / dt.byteSize();
        if (elements > Integer.MAX_VALUE) throw new IllegalArgumentException("cannot move a storage of " + elements + " elements");
        int n = (int) elements;
        Tensor whole = new Tensor(t.storage(), dt, new int[] {n}, new long[] {1}, 0);
        Tensor moved = be.allocate(dt, n);
        copy(whole, moved);
        return new Tensor(moved.storage(), dt, t.shape(), t.strides(), t.offset());
    }

    /** dst ← src across devices: the device side's backend copies (the CPU's when both are host). */
    static void copy(Tensor src, Tensor dst) {
        Storage ds = dst.storage(), ss = src.storage();
        if (!ds.isHost() && !ss.isHost() && !ds.device().equals(ss.device())) { // between two devices: through the host
            Tensor staged = CpuBackend.INSTANCE.allocate(src.dtype(), src.shape());
            ss.device().backend().copy(src, staged);
            ds.device().backend().copy(staged, dst);
        } else if (!ds.isHost()) ds.device().backend().copy(src, dst);
        else if (!ss.isHost()) ss.device().backend().copy(src, dst);
        else CpuBackend.INSTANCE.copy(src, dst);
    }
}
