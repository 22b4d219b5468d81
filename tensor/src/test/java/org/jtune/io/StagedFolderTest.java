package org.jtune.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jtune.JtuneException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole-folder replacement: the new folder replaces the old in one switch (with renameat2's exchange,
 * and with the two-rename fallback), an abandoned staging leaves the old one untouched, and every
 * state a kill during the switch can leave is repaired to the old or the new complete folder.
 */
class StagedFolderTest {
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void commitReplacesTheWholeFolder(boolean fallback, @TempDir Path dir) throws Exception {
        String before = System.getProperty("jtune.noRenameExchange");
        System.setProperty("jtune.noRenameExchange", Boolean.toString(fallback));
        try {
            Path out = dir.resolve("merged");
            write(out, "model-00001-of-00002.safetensors", "old 1", "model-00002-of-00002.safetensors", "old 2", "index.json", "old");
            try (StagedFolder s = StagedFolder.begin(out)) {
                Files.writeString(s.path().resolve("model.safetensors"), "new");
                Files.writeString(s.path().resolve("config.json"), "{}");
                assertEquals(List.of("index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), names(out),
                        "untouched until the commit");
                s.commit();
            }
            assertEquals(List.of("config.json", "model.safetensors"), names(out), "no old shard beside the new files");
            assertEquals(List.of("merged"), names(dir), "no staging or old folder left");
        } finally {
            if (before == null) System.clearProperty("jtune.noRenameExchange");
            else System.setProperty("jtune.noRenameExchange", before);
        }
    }

    @Test
    void renameExchangeSwapsTwoFoldersAtomicallyOnLinux(@TempDir Path dir) throws Exception {
        write(dir.resolve("a"), "x", "from a");
        write(dir.resolve("b"), "x", "from b");
        boolean swapped = FolderExchange.exchange(dir.resolve("a"), dir.resolve("b"));
        org.junit.jupiter.api.Assumptions.assumeTrue(swapped || !System.getProperty("os.name").startsWith("Linux"),
                "renameat2 RENAME_EXCHANGE is refused by this file system; the two-rename fallback is used");
        if (swapped) {
            assertEquals("from b", Files.readString(dir.resolve("a/x")));
            assertEquals("from a", Files.readString(dir.resolve("b/x")));
        }
    }

    @Test
    void anAbandonedStagingLeavesTheOldFolder(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("eval");
        write(out, "metrics.json", "old");
        try (StagedFolder s = StagedFolder.begin(out)) {
            Files.writeString(s.path().resolve("metrics.json"), "half");
        }
        assertEquals("old", Files.readString(out.resolve("metrics.json")));
        assertEquals(List.of("eval"), names(dir));
    }

    @Test
    void aKillBetweenTheRenamesIsRepairedToTheNewFolder(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("m");
        // the fallback's state after "old m -> .m.old-X" and before ".m.ready-Y -> m"
        write(dir.resolve(".m.old-0123456789abcdef"), "a", "old");
        write(dir.resolve(".m.ready-fedcba9876543210"), "a", "new");
        write(dir.resolve(".m.staging-00000000000000aa"), "a", "half");
        String note = StagedFolder.recover(out);
        assertNotNull(note);
        assertEquals("new", Files.readString(out.resolve("a")));
        assertEquals(List.of("m"), names(dir));
    }

    @Test
    void aKillAfterMovingTheOldAsideWithoutAReadyOneRestoresTheOld(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("m");
        write(dir.resolve(".m.old-0123456789abcdef"), "a", "old");
        StagedFolder.recover(out);
        assertEquals("old", Files.readString(out.resolve("a")));
    }

    @Test
    void aCompleteTargetWinsOverLeftovers(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("m");
        write(out, "a", "current");
        write(dir.resolve(".m.ready-fedcba9876543210"), "a", "other");
        write(dir.resolve(".mx.staging-fedcba9876543210"), "a", "another target's");
        assertNull(StagedFolder.recover(out));
        assertEquals("current", Files.readString(out.resolve("a")));
        assertEquals(List.of(".mx.staging-fedcba9876543210", "m"), names(dir), "only m's leftovers are removed");
    }

    @Test
    void refusesToReplaceAFolderOfOtherFiles(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("home");
        write(home, "thesis.tex", "years of work");
        JtuneException e = assertThrows(JtuneException.class, () -> StagedFolder.refuseForeign(home, "model", "config.json"));
        assertTrue(e.getMessage().contains("thesis.tex") && e.getMessage().contains("new or empty folder"), e.getMessage());
        write(dir.resolve("model"), "config.json", "{}", "notes.txt", "mine");
        StagedFolder.refuseForeign(dir.resolve("model"), "model", "config.json"); // a model folder may be replaced
        StagedFolder.refuseForeign(dir.resolve("absent"), "model", "config.json");
        Files.writeString(dir.resolve("file"), "x");
        assertThrows(JtuneException.class, () -> StagedFolder.begin(dir.resolve("file")));
    }

    static void write(Path folder, String... nameThenContent) throws Exception {
        Files.createDirectories(folder);
        for (int i = 0; i < nameThenContent.length; i += 2) Files.writeString(folder.resolve(nameThenContent[i]), nameThenContent[i + 1]);
    }

    static List<String> names(Path folder) throws Exception {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".lock")).sorted().toList();
        }
    }
}
