package org.jtune.cli;

import org.jtune.tensor.ResidentMemory;
import picocli.CommandLine.Option;

/** {@code --mlock}, for the commands that run a model (generate, chat, eval, serve): see {@link ResidentMemory}. */
final class MlockOption {
    @Option(names = "--mlock",
            description = "Lock the model's mapped weight files in RAM (mlock), so that the OS does not page them out while it runs; needs a memory-lock limit (ulimit -l) that covers them, else a warning and they stay pageable.")
    boolean mlock;

    /** Turns locking on when the flag was given; call before the model is loaded. */
    void apply() {
        if (mlock) ResidentMemory.setLocking(true);
    }
}
