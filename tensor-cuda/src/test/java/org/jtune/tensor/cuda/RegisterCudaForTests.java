package org.jtune.tensor.cuda;

import org.jtune.tensor.Device;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Before any test of this module runs: starts cuda:0 and registers it (so the conformance suite's
 * {@code Backends}, told {@code jtune.test.backends=cuda:0}, finds it), or records why it cannot start in
 * the system property {@code jtune.test.unavailable.cuda:0}, which turns each case into a skip with that reason.
 */
public final class RegisterCudaForTests implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if (System.getProperty("jtune.test.unavailable.cuda:0") != null) return;
        try {
            Device.register(CudaBackend.open(0));
        } catch (CudaUnavailableException e) {
            System.setProperty("jtune.test.unavailable.cuda:0", e.getMessage());
            System.out.println("[jtune-tensor-cuda] CUDA tests skipped: " + e.getMessage());
        }
    }
}
