package org.jtune.tensor;

/**
 * Starts the backend of one kind of device ({@code opencl}, {@code cuda}) the first time a device of that
 * type is asked for: {@link Device#backend()} and {@link Device#open} look the type up among the providers
 * listed in {@code META-INF/services/org.jtune.tensor.DeviceProvider} and call {@link #open}, then
 * {@link Device#register} the result. A provider loads its native library only inside {@code open}, so a
 * machine without the device (or its driver) pays nothing until a user asks for it.
 */
public interface DeviceProvider {
    /** The device type this provider serves: "opencl", "cuda". */
    String type();

    /**
     * The backend of device {@code index} of this type, started (context, queue, kernels built). An error
     * naming the device and what was found instead (no platform, no driver, fewer devices) when it cannot start.
     */
    Backend open(int index) throws DeviceUnavailableException;
}
