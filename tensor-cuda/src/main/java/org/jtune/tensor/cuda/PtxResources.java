package org.jtune.tensor.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The PTX the build compiled from {@code src/main/cuda} (resources {@code org/jtune/tensor/cuda/ptx/<module>.sm_<arch>.ptx}),
 * and the choice of architecture for a device: the highest built one not above the device's compute
 * capability (sm_90 for Hopper, sm_80 for Ampere and Ada); the driver compiles that PTX for the device.
 */
public final class PtxResources {
    /** Architectures the build compiles for, ascending. */
    public static final int[] ARCHS = {80, 90};
    static final String DIR = "/org/jtune/tensor/cuda/ptx/";

    private PtxResources() {}

    /** The PTX architecture to load on a device of compute capability major.minor; an error below sm_80. */
    public static int archFor(int major, int minor) {
        int cc = major * 10 + minor;
        int best = -1;
        for (int a : ARCHS) if (a <= cc) best = a;
        if (best < 0) {
            throw new IllegalStateException("the cuda backend needs compute capability ≥ 8.0 (its PTX is built for sm_"
                    + Arrays.toString(ARCHS) + "); this device has " + major + "." + minor);
        }
        return best;
    }

    public static String resourceName(String module, int arch) {
        return DIR + module + ".sm_" + arch + ".ptx";
    }

    /** The module's PTX text, NUL-terminated for cuModuleLoadData; an error naming the resource when the build did not make it. */
    public static byte[] load(String module, int arch) {
        String name = resourceName(module, arch);
        try (InputStream in = PtxResources.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + name + " is missing: this jtune-tensor-cuda was built without nvcc "
                        + "(the build prints 'CUDA kernels not compiled to PTX'); rebuild it where the CUDA toolkit is installed");
            }
            byte[] text = in.readAllBytes();
            return Arrays.copyOf(text, text.length + 1);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + name + ": " + e.getMessage(), e);
        }
    }
}
