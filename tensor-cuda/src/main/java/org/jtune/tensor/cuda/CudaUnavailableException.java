package org.jtune.tensor.cuda;

import org.jtune.JtuneException;

/** The CUDA backend cannot start here: no driver, no such device, a device older than sm_80, or no PTX in the build. */
public class CudaUnavailableException extends JtuneException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
