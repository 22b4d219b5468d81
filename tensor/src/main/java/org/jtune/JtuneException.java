package org.jtune;

/**
 * Bad input from the outside world: a malformed file, an unknown setting, a prompt that does not fit.
 * The message says what is wrong, where (file, line, tensor or key) and, when it can, what to do.
 * Programming errors (a shape mismatch between two tensors) stay unchecked exceptions.
 */
public class JtuneException extends Exception {
    public JtuneException(String message) {
        super(message);
    }

    public JtuneException(String message, Throwable cause) {
        super(message, cause);
    }
}
