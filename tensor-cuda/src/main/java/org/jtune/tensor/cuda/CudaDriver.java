package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.driver.JCudaDriver;

/**
 * Whether this machine can run the CUDA backend: JCuda's driver binding loads (it needs libcuda.so.1, the
 * NVIDIA driver), cuInit succeeds and at least one device is present. {@link #probe} never throws: a
 * machine without a driver gets a reason to print, and nothing else of the backend is touched.
 */
public final class CudaDriver {
    private static volatile Probe probe;

    private CudaDriver() {}

    /** What the probe found: {@code available} with the device count and driver version, or the reason why not. */
    public record Probe(boolean available, int devices, int driverVersion, String reason) {}

    public static Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (CudaDriver.class) {
                if (probe == null) probe = doProbe();
                p = probe;
            }
        }
        return p;
    }

    private static Probe doProbe() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux") || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            return new Probe(false, 0, 0, "the cuda backend is built for Linux x86-64 (JCuda natives); this is "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] version = new int[1], count = new int[1];
            cuDriverGetVersion(version);
            cuDeviceGetCount(count);
            if (count[0] == 0) return new Probe(false, 0, version[0], "the CUDA driver " + version(version[0]) + " sees no device");
            return new Probe(true, count[0], version[0], "");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return new Probe(false, 0, 0, "no CUDA driver: JCuda's driver library could not load (libcuda.so.1 missing?): " + firstLine(e));
        } catch (Throwable e) {
            return new Probe(false, 0, 0, "the CUDA driver did not start (cuInit): " + firstLine(e));
        }
    }

    static String version(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }
}
