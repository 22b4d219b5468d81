package org.jtune.tensor.cuda;

import org.jtune.tensor.Device;
import org.jtune.tensor.DeviceUnavailableException;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Before any test of this module runs: starts cuda:0 through {@link Device#open} (its provider), or records
 * why it cannot start in the system property {@code jtune.test.unavailable.cuda:0}, which the conformance
 * suite's {@code Backends} turns into a skip of each case with that reason; the reason is printed once here.
 */
public final class RegisterCudaForTests implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if (System.getProperty("jtune.test.unavailable.cuda:0") != null) return;
        try {
            Device.open("cuda:0");
        } catch (DeviceUnavailableException e) {
            System.setProperty("jtune.test.unavailable.cuda:0", e.getMessage());
            System.out.println("[jtune-tensor-cuda] CUDA tests skipped: " + e.getMessage());
        }
    }
}
