package org.jtune.cli.faults;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jtune.tensor.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Full disks: a child under a small file-size limit (`ulimit -f`: writes past it fail with EFBIG, as
 * on a full disk) and, when the test runs as root and may mount, a tiny tmpfs (ENOSPC for real). The
 * command ends with one line that says why, the previous output stays complete, no partial file or
 * folder is left, and the run resumes afterwards to the same bytes.
 */
class FullDiskTest {
    @Test
    void aMergeThatHitsTheFileSizeLimitKeepsTheOldModel(@TempDir Path tmp) throws Exception {
        assumeTrue(bash(), "bash is needed for ulimit");
        FaultFixture f = new FaultFixture(tmp);
        Path a = train(f, "a", 1, 1), b = train(f, "b", 2, 2);
        Path out = tmp.resolve("merged");
        FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", a.toString(), "--out", out.toString(), "--max-shard-bytes", "300000");
        Map<String, String> old = Snapshot.of(out), inputs = KillScenarios.inputs(f);
        try (ChildJtune child = ChildJtune.start(tmp.resolve("work"), List.of(), 200, "merge", "--model", f.model.toString(),
                "--adapter", b.toString(), "--out", out.toString(), "--max-shard-bytes", "300000")) {
            ChildJtune.Outcome o = child.await(120);
            assertNotEquals(0, o.exit(), o.toString());
            assertTrue(o.lastErrLine().startsWith("jtune merge: ") && o.lastErrLine().contains("file too large"), o.toString());
            assertFalse(o.err().contains("Exception") || o.err().contains("\tat "), o.toString());
        }
        assertEquals(old, Snapshot.of(out), "the old model is intact");
        assertEquals(List.of(), Snapshot.leftovers(out), "the staged folder was removed");
        assertEquals(inputs, KillScenarios.inputs(f));
    }

    @Test
    void aCheckpointThatHitsTheFileSizeLimitStopsCleanlyAndTheRunStartsAgain(@TempDir Path tmp) throws Exception {
        assumeTrue(bash(), "bash is needed for ulimit");
        FaultFixture f = new FaultFixture(tmp);
        Path recipe = f.recipe("lora", 3, 7, "");
        byte[] want = Files.readAllBytes(train(f, "reference", 3, 7).resolve("adapter_model.safetensors"));
        Path run = tmp.resolve("run");
        try (ChildJtune child = ChildJtune.start(tmp.resolve("work"), List.of(), 8, "train", recipe.toString(), "--output-dir", run.toString())) {
            ChildJtune.Outcome o = child.await(240);
            assertEquals(1, o.exit(), o.toString());
            assertTrue(o.lastErrLine().startsWith("jtune train: cannot write checkpoint ") && o.lastErrLine().contains("file too large")
                    && o.lastErrLine().contains("the earlier checkpoints are intact"), o.toString());
        }
        try (var s = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).toList(), "no half-written checkpoint left");
        }
        try (ChildJtune child = ChildJtune.start(tmp.resolve("work"), "train", "--resume", run.toString())) {
            ChildJtune.Outcome o = child.await(240);
            assertEquals(0, o.exit(), o.toString());
            assertTrue(o.err().contains("starting it again from step 0"), o.err());
        }
        assertArrayEquals(want, Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors")));
    }

    @Test
    void aMergeOntoAFullTmpfsKeepsTheOldModel(@TempDir Path tmp) throws Exception {
        Path disk = Files.createDirectories(tmp.resolve("tiny"));
        assumeTrue(mount(disk, "1700k"), "mounting a tmpfs needs root and the permission to mount (skipped: not available here)");
        try {
            FaultFixture f = new FaultFixture(tmp);
            Path a = train(f, "a", 1, 1), b = train(f, "b", 2, 2);
            Path out = disk.resolve("merged");
            FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", a.toString(), "--out", out.toString());
            Map<String, String> old = Snapshot.of(out);
            try (ChildJtune child = ChildJtune.start(tmp.resolve("work"), "merge", "--model", f.model.toString(), "--adapter", b.toString(),
                    "--out", out.toString())) {
                ChildJtune.Outcome o = child.await(120);
                assertNotEquals(0, o.exit(), o.toString());
                assertTrue(o.lastErrLine().startsWith("jtune merge: ") && o.lastErrLine().contains("no space left on the device"), o.toString());
            }
            assertEquals(old, Snapshot.of(out), "the old model is intact");
            assertEquals(List.of(), Snapshot.leftovers(out));
        } finally {
            new ProcessBuilder("umount", disk.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Path train(FaultFixture f, String name, int steps, long seed) throws Exception {
        int threads = Parallel.threads();
        try {
            return f.train(f.recipe(name, steps, seed, ""), f.tmp.resolve("run-" + name));
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static boolean bash() {
        try {
            return new ProcessBuilder("bash", "-c", "ulimit -f 100").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean mount(Path dir, String size) {
        if (!System.getProperty("os.name", "").startsWith("Linux")) return false;
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()).redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
