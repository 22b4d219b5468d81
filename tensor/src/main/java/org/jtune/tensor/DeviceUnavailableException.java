package org.jtune.tensor;

import org.jtune.JtuneException;

/**
 * A device the user asked for (--device, a recipe's {@code device:}) is not usable here: no backend for its
 * type, no driver or platform, or fewer devices than its index. The message names the device and what was found.
 */
public class DeviceUnavailableException extends JtuneException {
    public DeviceUnavailableException(String message) {
        super(message);
    }

    public DeviceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
