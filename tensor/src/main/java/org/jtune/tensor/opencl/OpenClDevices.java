package org.jtune.tensor.opencl;

import org.jtune.tensor.Backend;
import org.jtune.tensor.DeviceProvider;
import org.jtune.tensor.DeviceUnavailableException;

/**
 * The {@link DeviceProvider} of {@code opencl:N}: opens device N of the machine's OpenCL platforms (numbered
 * across platforms in order) and builds jtune's kernels there. Listed in META-INF/services; JOCL's native
 * library is loaded only here, when a user first asks for an OpenCL device.
 */
public final class OpenClDevices implements DeviceProvider {
    @Override
    public String type() {
        return "opencl";
    }

    @Override
    public Backend open(int index) throws DeviceUnavailableException {
        return new OpenClBackend(ClContext.open(index));
    }
}
