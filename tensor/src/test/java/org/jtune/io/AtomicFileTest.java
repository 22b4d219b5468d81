package org.jtune.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-or-nothing writes: content and hash, no temporary file left, old content kept when a write fails. */
class AtomicFileTest {
    @Test
    void writesContentWithItsSha256AndLeavesNoTemporaryFile(@TempDir Path dir) throws IOException {
        AtomicFile.Written e = AtomicFile.write(dir.resolve("a.txt"), out -> out.write("abc".getBytes()));
        // FIPS 180-2 example: SHA-256("abc")
        assertEquals(new AtomicFile.Written(dir.resolve("a.txt"), 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), e);
        assertEquals("abc", Files.readString(dir.resolve("a.txt")));
        assertEquals(e.sha256(), AtomicFile.sha256(dir.resolve("a.txt")));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("a.txt")), s.toList());
        }
    }

    @Test
    void aFailedWriteKeepsTheOldContent(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("state.json");
        AtomicFile.writeString(f, "old");
        assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            out.write("half of the new".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(f));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "temporary file removed");
        }
    }

    @Test
    void largeContentIsCountedAndHashed(@TempDir Path dir) throws IOException {
        byte[] data = new byte[1_000_003];
        new java.util.Random(1).nextBytes(data);
        AtomicFile.Written e = AtomicFile.write(dir.resolve("big.bin"), out -> {
            out.write(data, 0, 10);
            out.write(data, 10, data.length - 10);
        });
        assertEquals(data.length, e.bytes());
        assertEquals(AtomicFile.sha256(dir.resolve("big.bin")), e.sha256());
    }
}
