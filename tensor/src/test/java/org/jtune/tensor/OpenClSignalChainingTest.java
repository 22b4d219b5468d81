package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Opening an OpenCL device keeps the JVM's signal handlers. PoCL compiles kernels with LLVM, which installs one-shot
 * SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers over the JVM's; the JVM takes SIGSEGV for its implicit null checks, and a test
 * JVM died with exit 139 and no crash report (CI, 2026-12-06). With the JDK's libjsig preloaded (the jtune launcher and
 * these test runs do) the JVM's handlers stay first. A child JVM under -Xcheck:jni opens opencl:0 and copies to it: the
 * check reports "handler modified" when a handler was replaced. Without libjsig, on PoCL, it does (the check sees the
 * problem); with it, it does not.
 */
class OpenClSignalChainingTest {
    /**
     * The child: opens opencl:0 (its kernels are compiled then), then makes more JNI calls (copies to the device), at which
     * -Xcheck:jni compares the handlers. (Under -Xcheck:jni JOCL's array transfers go through copies, so no result is read.)
     */
    public static void main(String[] args) throws DeviceUnavailableException {
        Backend b = Device.open("opencl:0").backend();
        for (int i = 0; i < 3; i++) Tensor.of(new float[] {5, 2, 3}, 3).to(b.device());
        System.out.println("opened " + b.device());
    }

    @Test
    void theJvmKeepsItsSignalHandlersWhenOpenClStarts() throws Exception {
        Assumptions.assumeTrue(Backends.OPENCL != null, () -> "no OpenCL device: " + Backends.openClAbsence);
        String preload = System.getenv("LD_PRELOAD");
        assertTrue(preload != null && preload.contains("libjsig"), "the test JVM runs with libjsig preloaded (pom.xml), LD_PRELOAD=" + preload);
        Child with = child(preload);
        assertEquals(0, with.exit, with.output);
        assertTrue(with.output.contains("opened opencl:0"), with.output);
        assertFalse(with.output.contains("handler modified"), with.output);
        assertFalse(with.output.contains("LD_PRELOAD="), "no warning when libjsig is preloaded: " + with.output);

        Child without = child(null);
        assertTrue(without.output.contains("LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")),
                "the warning names the fix: " + without.output);
        if (java.nio.file.Files.readString(Path.of("/proc/self/maps")).contains("libpocl")) {
            assertTrue(without.output.contains("handler modified"), "PoCL replaces the handlers without libjsig: " + without.output);
        }
    }

    private record Child(int exit, String output) {}

    private static Child child(String preload) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xcheck:jni",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                OpenClSignalChainingTest.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (preload == null) pb.environment().remove("LD_PRELOAD");
        else pb.environment().put("LD_PRELOAD", preload);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM ends");
        return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
