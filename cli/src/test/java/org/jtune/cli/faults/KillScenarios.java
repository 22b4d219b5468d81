package org.jtune.cli.faults;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.tensor.Parallel;
import org.jtune.train.checkpoint.CheckpointManifest;

/**
 * The kill scenarios of the fault-injection suite, each run {@code kills} times with triggers drawn
 * from a seeded {@link KillSchedule}; {@link KillFaultsTest} runs a few kills of each in CI and
 * {@link KillFaultsHeavyTest} many. The assertion is always "nothing lost": after every kill the
 * output is the old complete one or the new complete one (never a mix), the inputs are byte-identical,
 * and finishing the command afterwards gives exactly what an uninterrupted run gives.
 */
final class KillScenarios {
    private KillScenarios() {}

    /** `jtune train` killed anywhere (steps, checkpoint writes, the final adapter), then resumed: the same adapter bytes. */
    static void training(Path tmp, int defaultKills) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        KillSchedule schedule = new KillSchedule("training", defaultKills);
        Path recipe = f.recipe("lora", 6, 7, "");
        int threads = Parallel.threads();
        long t0 = System.nanoTime();
        Path reference;
        try {
            reference = f.train(recipe, tmp.resolve("reference"));
        } finally {
            Parallel.setThreads(threads);
        }
        long inProcessMillis = (System.nanoTime() - t0) / 1_000_000;
        byte[] want = Files.readAllBytes(reference.resolve("adapter_model.safetensors"));
        Map<String, String> inputs = inputs(f);
        Path run = tmp.resolve("run");
        Path work = Files.createDirectories(tmp.resolve("work")); // before any trigger looks for new entries
        List<KillSchedule.Option> options = List.of(
                KillSchedule.moment(500, 2500 + 3 * inProcessMillis),
                KillSchedule.firstWrite(List.of(run, run.resolve("checkpoints")), 300),
                KillSchedule.event(run.resolve("checkpoints"), "\\.checkpoint-\\d+\\.partial", 30),
                KillSchedule.event(run.resolve("checkpoints"), "checkpoint-00000[2-5]", 200),
                KillSchedule.event(run, "\\.adapter\\.(staging|ready)-.*", 5));
        int killed = 0;
        for (int k = 0; k < schedule.kills; k++) {
            KillSchedule.Trigger trigger = schedule.next(options);
            try (ChildJtune child = ChildJtune.start(work, command(recipe, run))) {
                ChildJtune.Outcome o = child.killAt(trigger, 240);
                System.out.printf("fault seed %d: training kill %d at %s -> %s%n", schedule.seed, k + 1, trigger,
                        o.killed() ? "killed" : "finished (exit " + o.exit() + ")");
                if (!o.killed()) assertEquals(0, o.exit(), o.toString());
                else killed++;
            }
            checkRunFolder(run, reference);
            assertEquals(inputs, inputs(f), "inputs unchanged after kill " + (k + 1));
        }
        try (ChildJtune child = ChildJtune.start(work, command(recipe, run))) {
            ChildJtune.Outcome o = child.await(240);
            assertEquals(0, o.exit(), o.toString());
        }
        checkRunFolder(run, reference);
        assertArrayEquals(want, Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors")),
                "resumed after " + killed + " kill(s): the adapter of an uninterrupted run (seed " + schedule.seed + ")");
        assertEquals(inputs, inputs(f));
        assertEquals(List.of(), Snapshot.leftovers(run.resolve("adapter")));
        assertEquals(List.of(), hs_errs(work));
    }

    private static String[] command(Path recipe, Path run) {
        return Files.exists(run.resolve("config.yaml")) ? new String[] {"train", "--resume", run.toString()}
                : new String[] {"train", recipe.toString(), "--output-dir", run.toString()};
    }

    /** Every complete checkpoint verifies; the adapter is absent or whole; metrics.jsonl has no mixed line. */
    private static void checkRunFolder(Path run, Path reference) throws Exception {
        if (Files.isDirectory(run.resolve("checkpoints"))) {
            try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
                for (Path c : s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).toList()) {
                    CheckpointManifest.read(c).verify(c);
                }
            }
        }
        Path adapter = run.resolve("adapter");
        if (Files.exists(adapter)) { // written once, at the end: present means complete, file for file the uninterrupted run's
            assertEquals(Snapshot.of(reference), Snapshot.of(adapter), "the adapter folder after a kill");
            try (SafetensorsReader r = SafetensorsReader.open(adapter.resolve("adapter_model.safetensors"))) {
                assertFalse(r.names().isEmpty());
            }
        }
        if (Files.exists(run.resolve("metrics.jsonl"))) {
            List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
            long last = 0;
            for (int i = 0; i < lines.size(); i++) {
                if (i == lines.size() - 1 && !lines.get(i).endsWith("}")) break; // the line a kill cut short
                long step = new ObjectMapper().readTree(lines.get(i)).get("step").asLong();
                assertTrue(step >= last, "metrics.jsonl steps out of order: " + lines);
                last = step;
            }
        }
    }

    /** `jtune merge` into an existing sharded folder killed anywhere: the folder is the old model or the new one. */
    static void remerge(Path tmp, int defaultKills) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        KillSchedule schedule = new KillSchedule("remerge", defaultKills);
        int threads = Parallel.threads();
        Path a, b;
        try {
            a = f.train(f.recipe("a", 1, 1, ""), tmp.resolve("run-a"));
            b = f.train(f.recipe("b", 2, 2, ""), tmp.resolve("run-b"));
        } finally {
            Parallel.setThreads(threads);
        }
        Path out = tmp.resolve("merged"), fresh = tmp.resolve("merged-b");
        String shard = "300000"; // stories260K in four shards and an index
        FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", a.toString(), "--out", out.toString(), "--max-shard-bytes", shard);
        FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", b.toString(), "--out", fresh.toString(), "--max-shard-bytes", shard);
        Map<String, String> old = Snapshot.of(out), next = Snapshot.of(fresh);
        assertTrue(old.containsKey("model.safetensors.index.json") && old.size() > 5, old.toString());
        assertNotEquals(old, next);
        Map<String, String> inputs = inputs(f);
        Map<String, String> adapterB = Snapshot.of(b);
        Path work = Files.createDirectories(tmp.resolve("work")); // before any trigger looks for new entries
        List<KillSchedule.Option> options = List.of(
                KillSchedule.moment(300, 3000),
                KillSchedule.firstWrite(List.of(out, tmp), 60),
                KillSchedule.event(tmp, "\\.merged\\.staging-[0-9a-f]+", 40),
                KillSchedule.event(tmp, "\\.merged\\.ready-[0-9a-f]+", 1));
        for (int k = 0; k < schedule.kills; k++) {
            KillSchedule.Trigger trigger = schedule.next(options);
            ChildJtune.Outcome o;
            try (ChildJtune child = ChildJtune.start(work, "merge", "--model", f.model.toString(), "--adapter", b.toString(),
                    "--out", out.toString(), "--max-shard-bytes", shard)) {
                o = child.killAt(trigger, 120);
            }
            Map<String, String> now = Snapshot.of(out);
            String state = now.equals(old) ? "old" : now.equals(next) ? "new" : "MIXED";
            System.out.printf("fault seed %d: merge kill %d at %s -> %s, %s%n", schedule.seed, k + 1, trigger,
                    o.killed() ? "killed" : "finished", state);
            assertNotEquals("MIXED", state, "after kill " + (k + 1) + " at " + trigger + " (seed " + schedule.seed + "): " + now);
            assertEquals(inputs, inputs(f));
            assertEquals(adapterB, Snapshot.of(b));
            if (state.equals("new")) { // put the old model back for the next kill
                FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", a.toString(), "--out", out.toString(), "--max-shard-bytes", shard);
                assertEquals(old, Snapshot.of(out));
            }
        }
        FaultFixture.jtune("merge", "--model", f.model.toString(), "--adapter", b.toString(), "--out", out.toString(), "--max-shard-bytes", shard);
        assertEquals(next, Snapshot.of(out));
        assertEquals(List.of(), Snapshot.leftovers(out), "no staging, ready or old folder left beside the output");
        assertEquals(List.of(), hs_errs(work));
    }

    /** `jtune eval --out` over an earlier eval folder killed anywhere: the folder is the old results or the new ones. */
    static void evalFolder(Path tmp, int defaultKills) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        KillSchedule schedule = new KillSchedule("eval", defaultKills);
        Path out = tmp.resolve("eval"), fresh = tmp.resolve("eval-new");
        String[] common = {"eval", "--model", f.model.toString(), "--data", f.test.toString(), "--chat-template", "llama2",
                "--max-new-tokens", "6", "--task", "classification", "--batch-size", "4"};
        FaultFixture.jtune(KillScenarios.with(common, "--limit", "4", "--out", out.toString()));
        FaultFixture.jtune(KillScenarios.with(common, "--limit", "8", "--out", fresh.toString()));
        Map<String, String> old = Snapshot.of(out), next = Snapshot.of(fresh);
        assertEquals(3, old.size(), old.toString());
        assertNotEquals(old, next);
        Map<String, String> inputs = inputs(f);
        Path work = Files.createDirectories(tmp.resolve("work")); // before any trigger looks for new entries
        List<KillSchedule.Option> options = List.of(
                KillSchedule.moment(300, 4000),
                KillSchedule.firstWrite(List.of(out, tmp), 10),
                KillSchedule.event(tmp, "\\.eval\\.staging-[0-9a-f]+", 10),
                KillSchedule.event(tmp, "\\.eval\\.ready-[0-9a-f]+", 1));
        for (int k = 0; k < schedule.kills; k++) {
            KillSchedule.Trigger trigger = schedule.next(options);
            ChildJtune.Outcome o;
            try (ChildJtune child = ChildJtune.start(work, with(common, "--limit", "8", "--out", out.toString()))) {
                o = child.killAt(trigger, 120);
            }
            Map<String, String> now = Snapshot.of(out);
            String state = now.equals(old) ? "old" : now.equals(next) ? "new" : "MIXED";
            System.out.printf("fault seed %d: eval kill %d at %s -> %s, %s%n", schedule.seed, k + 1, trigger,
                    o.killed() ? "killed" : "finished", state);
            assertNotEquals("MIXED", state, "after kill " + (k + 1) + " at " + trigger + " (seed " + schedule.seed + "): " + now);
            assertEquals(inputs, inputs(f));
            if (state.equals("new")) {
                FaultFixture.jtune(with(common, "--limit", "4", "--out", out.toString()));
                assertEquals(old, Snapshot.of(out));
            }
        }
        assertEquals(List.of(), hs_errs(work));
    }

    static Map<String, String> inputs(FaultFixture f) throws Exception {
        Map<String, String> m = new java.util.TreeMap<>(Snapshot.of(f.model));
        m.put("train.jsonl", org.jtune.io.AtomicFile.sha256(f.data));
        m.put("test.jsonl", org.jtune.io.AtomicFile.sha256(f.test));
        return m;
    }

    static List<String> hs_errs(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("hs_err")).toList();
        }
    }

    static String[] with(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
