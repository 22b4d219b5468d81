package org.jtune.tensor;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * Where a tensor's memory lives: {@code cpu} (host memory: the Java heap, an arena or a mapped
 * file) or an accelerator such as {@code cuda:0} or {@code opencl:0}. Every {@link Storage} knows its
 * device, and {@link #backend()} is the backend that owns memory there and runs the ops on tensors
 * that live there ("device follows data"). The CPU backend is always present; a device backend
 * announces itself with {@link #register} when it is loaded, or is started on first use by the
 * {@link DeviceProvider} of its type ({@link #open} for user input: an error that names the device).
 *
 * @param type  "cpu", "cuda", "opencl", …
 * @param index which device of that type (0 for the host)
 */
public record Device(String type, int index) {
    /** Host memory, served by the CPU backend. */
    public static final Device CPU = new Device("cpu", 0);

    private static final Map<Device, Backend> BACKENDS = new ConcurrentHashMap<>();

    public Device {
        if (type == null || type.isEmpty() || !type.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
            throw new IllegalArgumentException("device type must be lower-case letters, got '" + type + "'");
        }
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
    }

    /** "cpu", "cuda" (index 0) or "cuda:1". */
    public static Device parse(String s) {
        int colon = s.indexOf(':');
        if (colon < 0) return s.equals("cpu") ? CPU : new Device(s, 0);
        try {
            return new Device(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + s + "': expected TYPE or TYPE:INDEX, e.g. cuda:0");
        }
    }

    public boolean isHost() {
        return type.equals("cpu");
    }

    /**
     * The backend that owns memory on this device, started by its {@link DeviceProvider} on first use; an
     * unchecked error names the device (and why it could not start) when there is none.
     */
    public Backend backend() {
        if (isHost()) return CpuBackend.INSTANCE;
        Backend b = BACKENDS.get(this);
        if (b != null) return b;
        try {
            return start(this);
        } catch (DeviceUnavailableException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * The device a user named ("cpu", "opencl", "opencl:1", "cuda:0"), its backend started: the checked error
     * for --device and recipe keys, naming the device and what this machine has instead.
     */
    public static Device open(String spec) throws DeviceUnavailableException {
        Device d;
        try {
            d = parse(spec.trim().toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new DeviceUnavailableException("bad device '" + spec + "': expected cpu, opencl[:N] or cuda[:N]");
        }
        if (!d.isHost() && BACKENDS.get(d) == null) start(d);
        return d;
    }

    private static synchronized Backend start(Device d) throws DeviceUnavailableException {
        Backend b = BACKENDS.get(d);
        if (b != null) return b;
        for (DeviceProvider p : ServiceLoader.load(DeviceProvider.class, Device.class.getClassLoader())) {
            if (!p.type().equals(d.type())) continue;
            b = p.open(d.index());
            if (!b.device().equals(d)) throw new IllegalStateException(p.type() + " provider opened " + b.device() + " when asked for " + d);
            register(b);
            return b;
        }
        throw new DeviceUnavailableException("device " + d + " is not available: no backend for device type '" + d.type() + "' (loaded: cpu"
                + (BACKENDS.isEmpty() ? "" : ", " + String.join(", ", BACKENDS.keySet().stream().map(Device::toString).sorted().toList()))
                + "; known types: cpu, opencl, cuda)");
    }

    /** Makes {@code backend} the owner of its device's memory (a device backend calls this once it has started). */
    public static void register(Backend backend) {
        Device d = backend.device();
        if (d.isHost()) throw new IllegalArgumentException("the host is served by the CPU backend; cannot register " + backend.name());
        BACKENDS.put(d, backend);
    }

    /** Forgets the backend of {@code device} (a device backend that shuts down; tests). */
    public static void unregister(Device device) {
        BACKENDS.remove(device);
    }

    @Override
    public String toString() {
        return isHost() ? "cpu" : type + ":" + index;
    }
}
