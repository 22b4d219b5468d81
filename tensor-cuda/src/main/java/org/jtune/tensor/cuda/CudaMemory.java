package org.jtune.tensor.cuda;

import org.jtune.tensor.Device;
import org.jtune.tensor.DeviceMemory;

/**
 * A block of device memory from the {@link CudaMemoryPool}: its address and size. When the last tensor
 * over it becomes unreachable the pool's cleaner takes the block back for reuse (the stream orders the
 * reuse after every kernel queued on it, so no synchronisation is needed).
 */
public final class CudaMemory implements DeviceMemory {
    private final Device device;
    private final DevicePointer pointer;
    private final long bytes;

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
        return pointer.address();
    }

    DevicePointer pointer() {
        return pointer;
    }

    @Override
    public String toString() {
        return device + " block of " + bytes + " B";
    }
}
