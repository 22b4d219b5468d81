package org.jtune.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/**
 * On a machine without a CUDA driver (the CI machines): the classes load, the probe answers with a reason
 * instead of throwing, and starting the backend is a checked error that names the device and the reason,
 * also when asked twice. On a machine with a GPU the first case is skipped and the second checks the index check.
 */
class CudaRefusalTest {
    @Test
    void withoutADriverTheBackendRefusesWithTheReason() {
        CudaDriver.Probe p = CudaDriver.probe();
        assumeFalse(p.available(), "a CUDA driver and device are present here");
        assertFalse(p.reason().isBlank());
        for (int i = 0; i < 2; i++) {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackend.open(0));
            assertTrue(e.getMessage().startsWith("cuda:0 is not available: "), e.getMessage());
            assertTrue(e.getMessage().contains(p.reason()), e.getMessage());
        }
    }

    @Test
    void anIndexBeyondTheDevicesIsRefused() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackend.open(1000));
        assertTrue(e.getMessage().startsWith("cuda:1000 is not available"), e.getMessage());
    }
}
