package org.jtune.tensor;

import java.util.stream.Stream;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * The backends the op-conformance suite runs against: a parameterised test takes a {@link Backend}
 * from {@code @MethodSource("org.jtune.tensor.Backends#all")} and calls the ops inside
 * {@link Ops#using}. The CPU backend, and {@link SimulatedDevice}, a stand-in device whose memory the
 * host cannot address (it runs the CPU kernels, so it checks the seams — placement, allocation,
 * copies — rather than new arithmetic). A CUDA or OpenCL backend is added here when present.
 */
public final class Backends {
    private Backends() {}

    public static Stream<Backend> all() {
        return Stream.of(CpuBackend.INSTANCE, SimulatedDevice.INSTANCE);
    }
}
