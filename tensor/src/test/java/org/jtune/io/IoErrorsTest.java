package org.jtune.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** "cannot create X: X" becomes "cannot create X: <why>". */
class IoErrorsTest {
    @Test
    void namesTheReason(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException e = assertThrows(IOException.class, () -> Files.createDirectories(file.resolve("sub")));
        String m = IoErrors.cannot("create", file.resolve("sub"), e);
        assertTrue(m.startsWith("cannot create " + file.resolve("sub") + ": "), m);
        assertFalse(m.endsWith(": " + file), "not just the path again: " + m);
        assertEquals("permission denied", IoErrors.reason(new AccessDeniedException("/x")));
        assertTrue(IoErrors.reason(new FileAlreadyExistsException("/x")).contains("in the way"));
        assertEquals("no space left on the device", IoErrors.reason(new FileSystemException("/x", null, "No space left on device")));
        assertTrue(IoErrors.reason(new IOException("File too large")).contains("ulimit -f"));
    }

    @Test
    void outputsAreReadableByOthersUnlessTheUmaskSaysNo(@TempDir Path dir) throws Exception {
        if (!dir.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        Path f = dir.resolve("a.safetensors");
        AtomicFile.writeString(f, "x");
        var perms = Files.getPosixFilePermissions(f);
        assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_READ));
        assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));
        assertFalse(perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE));
        assertFalse(perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE));
        assertFalse(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE));
    }
}
