package org.jtune.tensor;

import java.util.stream.Stream;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * The backends the op-conformance suite runs against: a parameterised test takes a {@link Backend}
 * from {@code @MethodSource("org.jtune.tensor.Backends#all")} and calls the ops inside
 * {@link Ops#using}. The CPU backend, and {@link SimulatedDevice}, a stand-in device whose memory the
 * host cannot address (it runs the CPU kernels, so it checks the seams — placement, allocation,
 * copies — rather than new arithmetic), and {@code opencl:0} when this machine has an OpenCL device (PoCL
 * in CI): its own kernels, checked against the same references. Without one, the reason is printed once
 * and the OpenCL cases are left out ({@code OpenClPresenceTest} fails instead when CI=true).
 */
public final class Backends {
    private Backends() {}

    /** The backend of opencl:0, or null (with the reason printed) when there is none. */
    public static final Backend OPENCL = openCl();

    /** Why opencl:0 is absent (null when present). */
    public static String openClAbsence;

    private static Backend openCl() {
        try {
            return Device.open("opencl:0").backend();
        } catch (DeviceUnavailableException e) {
            openClAbsence = e.getMessage();
            System.err.println("OpenCL conformance cases skipped: " + e.getMessage());
            return null;
        }
    }

    public static Stream<Backend> all() {
        return OPENCL == null ? Stream.of(CpuBackend.INSTANCE, SimulatedDevice.INSTANCE)
                : Stream.of(CpuBackend.INSTANCE, SimulatedDevice.INSTANCE, OPENCL);
    }
}
