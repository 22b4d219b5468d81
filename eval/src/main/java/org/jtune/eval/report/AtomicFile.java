package org.jtune.eval.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jtune.JtuneException;

/** Writes a file whole or not at all: the text goes to a temporary file in the same folder, which is then renamed over the target. */
public final class AtomicFile {
    private AtomicFile() {
    }

    public static void write(Path target, String text) throws JtuneException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            // a plain new file (not createTempFile, which would make it owner-only) with an unguessable name
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(new java.security.SecureRandom().nextLong()) + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                if (tmp != null) Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original error is the one to report
            }
            throw new JtuneException(target + ": cannot write: " + e.getMessage(), e);
        }
    }
}
