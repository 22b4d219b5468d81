package org.jtune.models.io;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;

/**
 * The safetensors readers of this JVM that hold memory-mapped files, so that the loops that read
 * weights over and over (a generation step, a training step) can ask, for the price of one fstat per
 * file, whether a file was truncated in place since it was mapped — and stop with a message naming
 * it, before a kernel touches a vanished page and the process dies of SIGBUS. The check runs between
 * steps; a truncation during a step can still crash (see {@link SafetensorsFile}).
 */
public final class MappedWeights {
    private static final Set<SafetensorsReader> OPEN = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    private MappedWeights() {}

    static void register(SafetensorsReader r) {
        OPEN.add(r);
    }

    static void unregister(SafetensorsReader r) {
        OPEN.remove(r);
    }

    /** Fails when any mapped weight file of this JVM has shrunk since it was mapped. */
    public static void checkIntact() throws JtuneException {
        if (OPEN.isEmpty()) return;
        List<SafetensorsReader> now;
        synchronized (OPEN) {
            now = List.copyOf(OPEN);
        }
        for (SafetensorsReader r : now) r.checkIntact();
    }

    /** {@link #checkIntact()} for callers that cannot throw checked exceptions (it becomes an IllegalStateException). */
    public static void checkIntactUnchecked() {
        try {
            checkIntact();
        } catch (JtuneException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
