package org.jtune.tensor.cuda;

import org.jtune.tensor.Backend;
import org.jtune.tensor.DeviceProvider;
import org.jtune.tensor.DeviceUnavailableException;

/**
 * Serves device type {@code cuda} to {@link org.jtune.tensor.Device#open} and {@code Device.backend()}
 * (listed in META-INF/services): JCuda's natives load only here, when a user asks for a CUDA device, and a
 * machine without the driver gets an error naming the device and what is missing.
 */
public final class CudaDeviceProvider implements DeviceProvider {
    @Override
    public String type() {
        return "cuda";
    }

    @Override
    public Backend open(int index) throws DeviceUnavailableException {
        try {
            return CudaBackend.open(index);
        } catch (CudaUnavailableException e) {
            throw new DeviceUnavailableException(e.getMessage(), e);
        }
    }
}
