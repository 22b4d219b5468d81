package org.jtune.tensor.opencl;

import java.lang.ref.Cleaner;
import org.jocl.CL;
import org.jocl.cl_mem;
import org.jtune.tensor.Device;
import org.jtune.tensor.DeviceMemory;

/**
 * One OpenCL buffer as a jtune {@link DeviceMemory}: the {@code cl_mem} handle, its size and device. The
 * buffer is released when this object becomes unreachable (a {@link Cleaner}), as heap storage is freed by
 * the GC: tensors on the device need no explicit close. Commands already queued on it keep it alive
 * (OpenCL defers the release until they finish).
 */
final class ClMemory implements DeviceMemory {
    private static final Cleaner CLEANER = Cleaner.create();

    final cl_mem mem;
    private final long bytes;
    private final Device device;

    ClMemory(cl_mem mem, long bytes, Device device) {
        this.mem = mem;
        this.bytes = bytes;
        this.device = device;
        CLEANER.register(this, () -> CL.clReleaseMemObject(mem)); // captures the handle, not this
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long byteSize() {
        return bytes;
    }
}
