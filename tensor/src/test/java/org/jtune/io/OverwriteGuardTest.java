package org.jtune.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An output may not be an input, however it is spelled, nor contain one. */
class OverwriteGuardTest {
    @Test
    void theSameFolderSpelledAnyWayIsRefused(@TempDir Path dir) throws Exception {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.createSymbolicLink(dir.resolve("link"), model);
        for (Path out : new Path[] {model, dir.resolve("model/"), dir.resolve("./x/../model"), dir.resolve("link")}) {
            JtuneException e = assertThrows(JtuneException.class, () -> OverwriteGuard.refuse("--out", out, "--model", model), out.toString());
            assertTrue(e.getMessage().startsWith("--out ") && e.getMessage().contains("same folder as --model"), e.getMessage());
        }
    }

    @Test
    void aFolderHoldingTheInputIsRefusedAFolderInsideItIsNot(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(Files.createDirectories(dir.resolve("eval")).resolve("predictions.jsonl"), "{}");
        JtuneException e = assertThrows(JtuneException.class, () -> OverwriteGuard.refuse("--out", dir.resolve("eval"), "--baseline", data));
        assertTrue(e.getMessage().contains("contains --baseline"), e.getMessage());
        OverwriteGuard.refuse("--out", dir.resolve("eval/new"), "--baseline", dir.resolve("eval")); // inside: allowed
        OverwriteGuard.refuse("--out", dir.resolve("other"), "--baseline", data);
        OverwriteGuard.refuse("--out", dir.resolve("other"), "--baseline", null);
    }

    @Test
    void aHardLinkIsTheSameFile(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("a.jsonl"), "x");
        Path b = Files.createLink(dir.resolve("b.jsonl"), a);
        assertThrows(JtuneException.class, () -> OverwriteGuard.refuse("--out", b, "--data", a));
    }
}
