package org.jtune.serve.registry;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jtune.JtuneException;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Gate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry on SQLite with hand-written run folders and a predictor whose accuracy each adapter
 * states: lineage recorded, artifacts survive the run folder, stages, a failing gate changes no byte
 * of the database, forced promotion is audited, rollback walks the production history back, two
 * promotes decided on the same state cannot both win, the watcher sees every change.
 * {@link RegistryPostgresTest} runs the same tests on a PostgreSQL server.
 */
class RegistryTest {
    /** The database of the registry a test calls {@code name} under {@code root}: an SQLite file. */
    String spec(Path root, String name) throws Exception {
        return root.resolve(name).toString();
    }

    /** Where the registry keeps its artifacts: null (beside the SQLite file). */
    Path artifacts(Path root) {
        return null;
    }

    Registry open(Path root, String name) throws Exception {
        return Registry.open(spec(root, name), artifacts(root));
    }

    static Promotion promotion(Path root, Path gate) throws Exception {
        return new Promotion(Gate.load(gate), root.resolve("data/test.jsonl"), new EvalSettings(List.of(FakeRun.LABELS), false, List.of()),
                Task.CLASSIFICATION, FakeRun.PREDICTOR, 200, 1);
    }

    static Path gate(Path root, String... rules) throws Exception {
        Path g = root.resolve("gate-" + rules.length + "-" + Math.abs(String.join("", rules).hashCode()) + ".yaml");
        StringBuilder sb = new StringBuilder("rules:\n");
        for (String r : rules) sb.append("  - ").append(r).append('\n');
        Files.writeString(g, sb);
        return g;
    }

    @Test
    void registersLineageAndKeepsArtifactsAfterTheRunFolderIsDeleted(@TempDir Path root) throws Exception {
        Path run = FakeRun.run(root, "one", 0.7, 0.001);
        Registry reg = open(root, "reg/registry.db");
        ModelVersion v = reg.register(RunFolder.read(run, null), new Registry.Registration("tickets", null, "alice"));
        assertEquals(1, v.version());
        assertEquals(Stage.CANDIDATE, v.stage());
        assertEquals("adapter", v.kind());
        assertEquals("alice", v.createdBy());
        var l = v.lineage();
        assertEquals(Sha256.of(root.resolve("base/model.safetensors")), sha(l.get("base_model").get("files"), "model.safetensors"));
        assertEquals(Sha256.of(run.resolve("adapter/adapter_model.safetensors")), sha(l.get("artifact").get("files"), "adapter_model.safetensors"));
        assertEquals(Sha256.of(root.resolve("data/train.jsonl")), l.get("datasets").get(0).get("sha256").asText());
        assertEquals(30, l.get("datasets").get(0).get("lines").asInt());
        assertTrue(l.get("data_check").has("passed"), l.get("data_check").toString());
        assertEquals(0.001, l.get("recipe").get("learning_rate").asDouble());
        assertEquals(7, l.get("recipe").get("seed").asInt());
        assertEquals(1.4, l.get("training").get("final").get("loss").asDouble());
        assertEquals(1.2, l.get("training").get("best").get("loss").get("value").asDouble());
        assertEquals(3, l.get("training").get("best").get("loss").get("step").asInt());
        assertEquals(0.6, l.get("training").get("best").get("val_accuracy").get("value").asDouble());
        assertEquals(4, l.get("training").get("steps").asInt());
        assertTrue(l.get("eval").isNull());

        // the run folder goes away; the version's files do not
        deleteTree(run);
        Path folder = reg.artifactFolder(v);
        assertEquals("adapter weights one", Files.readString(folder.resolve("adapter_model.safetensors")));
        assertEquals(ArtifactManifest.of(folder).sha256(), v.artifactSha256());
        assertEquals(List.of("tickets"), reg.names());
        assertEquals(List.of("register"), reg.audit("tickets").stream().map(AuditEntry::action).toList());
    }

    @Test
    void evalFolderBesideTheRunIsFoundAndRecorded(@TempDir Path root) throws Exception {
        Path run = FakeRun.run(root, "lora", 0.7, 0.001);
        Path eval = root.resolve("eval/lora");
        Files.createDirectories(eval);
        Files.writeString(eval.resolve("metrics.json"), """
                {"task":"classification","n":30,"metrics":{"accuracy":0.7},"comparison":{"baseline":{"accuracy":0.2}},
                 "gate":{"passed":true,"rules":[{"rule":"accuracy >= 0.5","status":"PASS","actual":0.7,"message":"ok"}]}}
                """);
        Registry reg = open(root, "registry.db");
        ModelVersion v = reg.register(RunFolder.read(run, null), new Registry.Registration("t", null, "bob"));
        assertEquals(0.7, v.lineage().get("eval").get("metrics").get("accuracy").asDouble());
        assertEquals(0.2, v.lineage().get("eval").get("baseline_metrics").get("accuracy").asDouble());
        assertTrue(v.lineage().get("eval").get("gate").get("passed").asBoolean());
        assertThrows(JtuneException.class, () -> RunFolder.read(run, root.resolve("nowhere")));
    }

    @Test
    void failingGateChangesNothingPassingGatePromotesAndRollbackGoesBack(@TempDir Path root) throws Exception {
        Path db = root.resolve("registry.db");
        Registry reg = open(root, "registry.db");
        for (String[] r : new String[][] {{"a", "0.6"}, {"b", "0.8"}, {"c", "0.5"}}) {
            reg.register(RunFolder.read(FakeRun.run(root, r[0], Double.parseDouble(r[1]), 0.001), null), new Registry.Registration("t", null, "carol"));
        }
        Path beatsProduction = gate(root, "accuracy >= 0.5", "accuracy.delta >= 0.0");
        // v1 (0.6) against the base (0.2): passes
        Promotion.Outcome o1 = promotion(root, beatsProduction).run(reg, "t", 1, Stage.PRODUCTION, false, null, "carol");
        assertTrue(o1.promoted());
        assertEquals(0.6, o1.comparison().candidate().metric("accuracy"), 1e-12);
        assertEquals(0.2, o1.comparison().baseline().metric("accuracy"), 1e-12);
        assertTrue(o1.baseline().startsWith("base "));
        // v3 (0.5) against production v1 (0.6): fails, and not one byte of the database changes
        byte[] before = Files.exists(db) ? Files.readAllBytes(db) : null; // an SQLite file; a server database is compared by its rows
        List<List<String>> rowsBefore = dump(reg);
        Promotion.Outcome o3 = promotion(root, beatsProduction).run(reg, "t", 3, Stage.PRODUCTION, false, null, "carol");
        assertFalse(o3.promoted());
        assertFalse(o3.verdict().passed());
        assertEquals("t:1", o3.baseline());
        if (before != null) assertArrayEquals(before, Files.readAllBytes(db), "a refused promotion leaves the database file as it was");
        assertEquals(rowsBefore, dump(reg));
        assertEquals(1, reg.production("t").orElseThrow().version());
        // v2 (0.8) beats v1: promoted, v1 archived
        assertTrue(promotion(root, beatsProduction).run(reg, "t", 2, Stage.PRODUCTION, false, null, "carol").promoted());
        assertEquals(2, reg.production("t").orElseThrow().version());
        assertEquals(Stage.ARCHIVED, reg.version("t", 1).stage());
        // v3 forced in with a reason: recorded as forced
        assertThrows(JtuneException.class, () -> promotion(root, beatsProduction).run(reg, "t", 3, Stage.PRODUCTION, true, null, "dave"));
        Promotion.Outcome forced = promotion(root, beatsProduction).run(reg, "t", 3, Stage.PRODUCTION, true, "hotfix for outage", "dave");
        assertTrue(forced.promoted() && forced.forced());
        AuditEntry last = reg.audit("t").getLast();
        assertEquals("promote", last.action());
        assertEquals("dave", last.who());
        assertEquals("hotfix for outage", last.reason());
        assertTrue(last.details().get("forced").asBoolean());
        assertFalse(last.details().get("evaluation").get("gate").get("passed").asBoolean());
        // rollback: 3 → 2 → 1, then nothing earlier
        assertEquals(2, reg.rollback("t", "erin", "v3 misroutes").version());
        assertEquals(Stage.ARCHIVED, reg.version("t", 3).stage());
        assertEquals(1, reg.rollback("t", "erin", null).version());
        assertEquals(Stage.PRODUCTION, reg.version("t", 1).stage());
        assertThrows(JtuneException.class, () -> reg.rollback("t", "erin", null));
        // promoting after a rollback pushes onto what is left of the history
        assertTrue(promotion(root, beatsProduction).run(reg, "t", 2, Stage.PRODUCTION, false, null, "carol").promoted());
        assertEquals(1, reg.rollback("t", "erin", null).version());
        List<String> actions = reg.audit("t").stream().map(a -> a.action() + ":" + a.version() + ":" + a.toStage()).toList();
        assertEquals(List.of("register:1:candidate", "register:2:candidate", "register:3:candidate", "promote:1:production",
                "archive:1:archived", "promote:2:production", "archive:2:archived", "promote:3:production",
                "rollback:3:archived", "rollback:2:production", "rollback:2:archived", "rollback:1:production",
                "archive:1:archived", "promote:2:production", "rollback:2:archived", "rollback:1:production"), actions);
    }

    @Test
    void productionNeedsAGateOrForceAndStagingDoesNot(@TempDir Path root) throws Exception {
        Registry reg = open(root, "r.db");
        reg.register(RunFolder.read(FakeRun.run(root, "a", 0.6, 0.001), null), new Registry.Registration("t", null, "x"));
        Promotion noGate = new Promotion(null, null, EvalSettings.DEFAULTS, null, FakeRun.PREDICTOR, 10, 1);
        assertThrows(JtuneException.class, () -> noGate.run(reg, "t", 1, Stage.PRODUCTION, false, null, "x"));
        assertEquals(Stage.STAGING, noGate.run(reg, "t", 1, Stage.STAGING, false, "try it", "x").version().stage());
        assertThrows(JtuneException.class, () -> reg.version("t", 9));
        assertThrows(JtuneException.class, () -> Registry.open("jdbc:mysql://x/y", null));
        assertThrows(JtuneException.class, () -> reg.register(RunFolder.read(FakeRun.run(root, "b", 0.6, 0.001), null),
                new Registry.Registration("bad name!", null, "x")));
    }

    @Test
    void twoPromotesDecidedOnTheSameStateCannotBothWin(@TempDir Path root) throws Exception {
        Registry reg = open(root, "r.db");
        reg.register(RunFolder.read(FakeRun.run(root, "a", 0.7, 0.001), null), new Registry.Registration("t", null, "x"));
        reg.register(RunFolder.read(FakeRun.run(root, "b", 0.8, 0.001), null), new Registry.Registration("t", null, "x"));
        Path g = gate(root, "accuracy >= 0.5");
        CountDownLatch bothEvaluated = new CountDownLatch(2);
        // each promotion's predictor waits until both have read the registry state and run their evaluations
        Predictor slow = (m, a, f, e) -> {
            var p = FakeRun.PREDICTOR.predict(m, a, f, e);
            if (a != null) {
                bothEvaluated.countDown();
                try {
                    bothEvaluated.await();
                } catch (InterruptedException ex) {
                    throw new IllegalStateException(ex);
                }
            }
            return p;
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Promotion.Outcome>> results = new ArrayList<>();
        for (int v : new int[] {1, 2}) {
            results.add(pool.submit(() -> new Promotion(Gate.load(g), root.resolve("data/test.jsonl"),
                    new EvalSettings(List.of(FakeRun.LABELS), false, List.of()), Task.CLASSIFICATION, slow, 50, 1)
                    .run(open(root, "r.db"), "t", v, Stage.PRODUCTION, false, null, "u" + v)));
        }
        int won = 0, refused = 0;
        for (Future<Promotion.Outcome> f : results) {
            try {
                if (f.get().promoted()) won++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertInstanceOf(Registry.ConcurrentChangeException.class, e.getCause(), String.valueOf(e.getCause()));
                refused++;
            }
        }
        pool.shutdown();
        assertEquals(1, won);
        assertEquals(1, refused);
        assertEquals(1, reg.audit("t").stream().filter(a -> a.action().equals("promote")).count());
        assertEquals(1, reg.versions("t").stream().filter(v -> v.stage() == Stage.PRODUCTION).count());
    }

    @Test
    void watcherReportsProductionAndEachChange(@TempDir Path root) throws Exception {
        Registry reg = open(root, "r.db");
        reg.register(RunFolder.read(FakeRun.run(root, "a", 0.6, 0.001), null), new Registry.Registration("t", null, "x"));
        reg.register(RunFolder.read(FakeRun.run(root, "b", 0.8, 0.001), null), new Registry.Registration("t", null, "x"));
        try (RegistryWatcher w = RegistryWatcher.watch(reg, "t", null)) {
            List<String> seen = new ArrayList<>();
            w.onChange(s -> seen.add(s.map(RegistryWatcher.Served::label).orElse("none")));
            assertEquals(Optional.empty(), w.current());
            assertFalse(w.poll());
            Path g = gate(root, "accuracy >= 0.5");
            promotion(root, g).run(reg, "t", 1, Stage.PRODUCTION, false, null, "x");
            assertTrue(w.poll());
            RegistryWatcher.Served s = w.current().orElseThrow();
            assertEquals("t:1", s.label());
            assertEquals(root.resolve("base"), s.model());
            assertEquals("0.6", Files.readString(s.adapter().resolve("quality")));
            promotion(root, g).run(reg, "t", 2, Stage.PRODUCTION, false, null, "x");
            reg.rollback("t", "x", null);
            assertFalse(w.poll(), "2 and back to 1 between two polls: production is what it was, nothing to switch");
            assertThrows(JtuneException.class, () -> reg.rollback("t", "x", null), "1 was the first production version");
            assertEquals(List.of("t:1"), seen);
        }
        try (RegistryWatcher w = RegistryWatcher.watch(reg, "t", java.time.Duration.ofMillis(20))) {
            CountDownLatch changed = new CountDownLatch(1);
            w.onChange(s -> changed.countDown());
            promotion(root, gate(root, "accuracy >= 0.5")).run(reg, "t", 2, Stage.PRODUCTION, false, null, "x");
            assertTrue(changed.await(10, java.util.concurrent.TimeUnit.SECONDS), "the polling thread saw the promotion");
            assertEquals("t:2", w.current().orElseThrow().label());
        }
    }

    @Test
    void diffNamesWhatChangedBetweenVersions(@TempDir Path root) throws Exception {
        Registry reg = open(root, "r.db");
        reg.register(RunFolder.read(FakeRun.run(root, "a", 0.6, 0.001), null), new Registry.Registration("t", null, "x"));
        reg.register(RunFolder.read(FakeRun.run(root, "b", 0.6, 0.002), null), new Registry.Registration("t", 1, "x"));
        var changes = VersionDiff.of(reg.version("t", 1), reg.version("t", 2));
        List<String> keys = changes.stream().map(VersionDiff.Change::key).toList();
        assertTrue(keys.contains("recipe.learning_rate"), keys.toString());
        assertTrue(keys.contains("artifact.sha256"), keys.toString());
        assertTrue(keys.contains("parent_version"), keys.toString());
        assertFalse(keys.contains("base_model.sha256"), "same base: " + keys);
        assertFalse(keys.contains("datasets.0.sha256"), "same data: " + keys);
    }

    @Test
    void migrationsAreVersionedAndIdempotent(@TempDir Path root) throws Exception {
        String db = spec(root, "r.db");
        open(root, "r.db");
        open(root, "r.db");
        assertEquals(SchemaMigrations.latest(), SchemaMigrations.current(Database.of(db)));
        try (Connection c = Database.of(db).connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO registry_schema (version, description, applied_at) VALUES (99, 'future', 'x')");
        }
        JtuneException e = assertThrows(JtuneException.class, () -> open(root, "r.db"));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }

    private static String sha(com.fasterxml.jackson.databind.JsonNode files, String path) {
        for (var f : files) if (f.get("path").asText().equals(path)) return f.get("sha256").asText();
        return null;
    }

    /** Every row of every table, as text, table by table in a fixed order. */
    static List<List<String>> dump(Registry reg) throws Exception {
        List<List<String>> out = new ArrayList<>();
        try (Connection c = reg.database().connect(); Statement s = c.createStatement()) {
            for (String t : List.of("registry_schema", "registry_models", "registry_artifacts", "registry_versions", "registry_production", "registry_audit")) {
                try (ResultSet rs = s.executeQuery("SELECT * FROM " + t + " ORDER BY 1, 2")) {
                    ResultSetMetaData md = rs.getMetaData();
                    while (rs.next()) {
                        List<String> row = new ArrayList<>(List.of(t));
                        for (int i = 1; i <= md.getColumnCount(); i++) row.add(rs.getString(i));
                        out.add(row);
                    }
                }
            }
        }
        return out;
    }

    static void deleteTree(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
