package org.jtune.cli.faults;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.io.FolderLock;
import org.jtune.tensor.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 case 3: two `jtune train` into one output folder at once. The second is refused at once
 * with a message naming the first (pid, host, start time); the first runs undisturbed: one
 * metrics.jsonl line per step, the adapter of an uninterrupted run. Two merges into one folder: the
 * same.
 */
class ConcurrentRunsTest {
    @Test
    void aSecondTrainingIntoTheSameFolderIsRefusedNamingTheFirst(@TempDir Path tmp) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        Path recipe = f.recipe("lora", 4, 7, "");
        int threads = Parallel.threads();
        byte[] want;
        try {
            want = Files.readAllBytes(f.train(recipe, tmp.resolve("reference")).resolve("adapter_model.safetensors"));
        } finally {
            Parallel.setThreads(threads);
        }
        Path run = tmp.resolve("run");
        try (ChildJtune first = ChildJtune.start(tmp.resolve("w1"), "train", recipe.toString(), "--output-dir", run.toString())) {
            Path lock = FolderLock.lockFileOf(run);
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (first.isAlive() && System.nanoTime() < deadline && !(Files.exists(lock) && Files.size(lock) > 0)) Thread.sleep(5);
            assertTrue(first.isAlive(), "the first run ended before the second could start:\n" + first.errSoFar());
            ChildJtune.Outcome second;
            try (ChildJtune other = ChildJtune.start(tmp.resolve("w2"), "train", recipe.toString(), "--output-dir", run.toString())) {
                second = other.await(120);
            }
            ChildJtune.Outcome one = first.await(240);
            assertEquals(0, one.exit(), one.toString());
            assertEquals(1, second.exit(), second.toString());
            assertTrue(second.lastErrLine().startsWith("jtune train: " + run + " is in use by another jtune process (pid " + first.pid() + " on ")
                    && second.lastErrLine().contains("jtune train"), second.toString());
        }
        List<Long> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) steps.add(new ObjectMapper().readTree(line).get("step").asLong());
        assertEquals(List.of(1L, 2L, 3L, 4L), steps, "one line per step, nothing interleaved");
        assertArrayEquals(want, Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors")));
    }

    @Test
    void aSecondMergeIntoTheSameFolderIsRefused(@TempDir Path tmp) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        int threads = Parallel.threads();
        Path a;
        try {
            a = f.train(f.recipe("a", 1, 1, ""), tmp.resolve("run-a"));
        } finally {
            Parallel.setThreads(threads);
        }
        Path out = tmp.resolve("merged");
        try (FolderLock held = FolderLock.acquire(out, "a merge in progress")) {
            try (ChildJtune child = ChildJtune.start(tmp.resolve("w"), "merge", "--model", f.model.toString(), "--adapter", a.toString(),
                    "--out", out.toString())) {
                ChildJtune.Outcome o = child.await(120);
                assertNotEquals(0, o.exit(), o.toString());
                assertTrue(o.lastErrLine().contains("is in use by another jtune process (pid " + ProcessHandle.current().pid()), o.toString());
            }
        }
        assertFalse(Files.exists(out.resolve("config.json")), "nothing written");
    }
}
