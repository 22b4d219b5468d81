package org.jtune.tensor.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * A CUDA device address as JCuda's driver calls take it ({@link CUdeviceptr}) that also tells its raw
 * value (kernel arguments and cuBLAS take plain addresses): JCuda fills in the address of an instance
 * passed to cuMemAlloc, and a subclass may read it.
 */
final class DevicePointer extends CUdeviceptr {
    DevicePointer() {}

    private DevicePointer(DevicePointer base, long byteOffset) {
        super(base, byteOffset);
    }

    /** The same allocation, {@code bytes} further on. */
    DevicePointer plus(long bytes) {
        return bytes == 0 ? this : new DevicePointer(this, bytes);
    }

    /** The raw device address this pointer designates (the allocation's start plus offsets made by {@link #plus}). */
    long address() {
        return getNativePointer() + getByteOffset();
    }

    /** A stream whose raw handle can be read (cuBLAS binds to it). */
    static final class Stream extends CUstream {
        long handle() {
            return getNativePointer();
        }
    }
}
