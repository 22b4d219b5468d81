package org.jtune.tensor.cuda;

import org.jtune.tensor.Device;
import org.jtune.tensor.DeviceMemory;

/**
 * A block of device memory from the {@link CudaMemoryPool}: its address and size. When the last tensor
 * over it becomes unreachable the pool's cleaner takes the block back for reuse (the stream orders the
 * reuse after every kernel queued on it, so no synchronisation is needed). An op's temporaries are given
 * back at once when the op has queued its last kernel ({@link #release}, from {@link CudaTensors#scope});
 * a released block's address is refused, so a temporary used past its op fails loudly instead of reading
 * memory another op owns.
 */
public final class CudaMemory implements DeviceMemory {
    private final Device device;
    private final DevicePointer pointer;
    private final long bytes;
    private java.lang.ref.Cleaner.Cleanable giveBack;
    private volatile boolean released;

    CudaMemory(Device device, DevicePointer pointer, long bytes) {
        this.device = device;
        this.pointer = pointer;
        this.bytes = bytes;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long byteSize() {
        return bytes;
    }

    /** The raw device address of the first byte. */
    public long address() {
        if (released) throw new IllegalStateException(this + " was given back to the pool at the end of the op that made it");
        return pointer.address();
    }

    /** The pool's action that takes the block back (run at most once: by {@link #release} or when this becomes unreachable). */
    void onRelease(java.lang.ref.Cleaner.Cleanable action) {
        this.giveBack = action;
    }

    /** Gives the block back to the pool now; later kernels queued on the stream may reuse it. */
    void release() {
        released = true;
        giveBack.clean();
    }

    DevicePointer pointer() {
        if (released) throw new IllegalStateException(this + " was given back to the pool at the end of the op that made it");
        return pointer;
    }

    @Override
    public String toString() {
        return device + " block of " + bytes + " B";
    }
}
