package org.jtune.tensor;

/**
 * A block of memory on an accelerator, as its backend hands it out (a CUDA device pointer, an OpenCL
 * buffer): opaque to everything but that backend, which reads and writes it with its own kernels and
 * copies. The host never addresses it; {@link Storage#segment()} of device storage is an error.
 */
public interface DeviceMemory {
    Device device();

    long byteSize();
}
