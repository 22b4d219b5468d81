package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Whether the OpenCL cases of the conformance suite run: in CI (CI=true, where .ci/run installs PoCL) an
 * absent OpenCL device fails here, naming why, instead of silently leaving the device unchecked; elsewhere
 * the test is skipped with the reason. Also the errors a user sees for a device that is not there.
 */
class OpenClPresenceTest {
    @Test
    void openClZeroIsPresentInCi() {
        if (Backends.OPENCL == null && "true".equals(System.getenv("CI"))) fail("CI=true but opencl:0 is absent: " + Backends.openClAbsence);
        Assumptions.assumeTrue(Backends.OPENCL != null, () -> "no OpenCL device: " + Backends.openClAbsence);
        assertEquals(new Device("opencl", 0), Backends.OPENCL.device());
        assertSame(Backends.OPENCL, Device.parse("opencl").backend(), "one backend per device, started once");
    }

    @Test
    void aMissingDeviceIsAnErrorNamingIt() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Device.open("opencl:99"));
        assertTrue(e.getMessage().startsWith("device opencl:99 is not available"), e.getMessage());
        DeviceUnavailableException unknown = assertThrows(DeviceUnavailableException.class, () -> Device.open("tpu:0"));
        assertTrue(unknown.getMessage().contains("no backend for device type 'tpu'"), unknown.getMessage());
        assertThrows(DeviceUnavailableException.class, () -> Device.open("opencl:-1"));
        IllegalStateException viaBackend = assertThrows(IllegalStateException.class, () -> new Device("opencl", 99).backend());
        assertTrue(viaBackend.getMessage().contains("opencl:99"), viaBackend.getMessage());
    }
}
