package org.jtune.train.checkpoint;

import org.jtune.JtuneException;

/** A checkpoint that cannot be written or used: the message names the folder and the file. */
public final class CheckpointException extends JtuneException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
