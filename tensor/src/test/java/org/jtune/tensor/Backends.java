package org.jtune.tensor;

import java.util.Arrays;
import java.util.stream.Stream;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * The backends the op-conformance suite runs against: a parameterised test takes a {@link Backend}
 * from {@code @MethodSource("org.jtune.tensor.Backends#all")} and calls the ops inside
 * {@link Ops#using}. By default the CPU backend, {@link SimulatedDevice}, a stand-in device whose memory
 * the host cannot address (it runs the CPU kernels, so it checks the seams — placement, allocation,
 * copies — rather than new arithmetic), and {@code opencl:0} when this machine has an OpenCL device (PoCL
 * in CI): its own kernels, checked against the same references. Without one, the reason is printed once
 * and the OpenCL cases are left out ({@code OpenClPresenceTest} fails instead when CI=true). With the
 * system property {@code jtune.test.backends} (e.g. {@code cuda:0}, set by a device backend's module,
 * which runs this suite from the test-jar) the suite runs against those devices instead; a device that
 * is not present here becomes an {@link UnavailableBackend} whose cases {@link SkipUnavailableBackends}
 * reports as skipped, with the reason.
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
        String devices = System.getProperty("jtune.test.backends", "").trim();
        if (!devices.isEmpty()) return Arrays.stream(devices.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Backends::device);
        return OPENCL == null ? Stream.of(CpuBackend.INSTANCE, SimulatedDevice.INSTANCE)
                : Stream.of(CpuBackend.INSTANCE, SimulatedDevice.INSTANCE, OPENCL);
    }

    /** The backend of a device, or a placeholder that says why it is not here. */
    static Backend device(String spec) {
        String why = System.getProperty("jtune.test.unavailable." + spec);
        if (why != null) return UnavailableBackend.of(spec, why);
        try {
            return Device.parse(spec).backend();
        } catch (RuntimeException e) {
            return UnavailableBackend.of(spec, e.getMessage());
        }
    }
}
