package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.jtune.cli.demo.Demo;
import org.jtune.cli.demo.DemoSize;
import org.jtune.eval.run.ChatTestSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The registry acceptance path on the run folder `jtune demo` leaves (a reduced demo, run through its
 * Java API): register the LoRA run (its eval folder found beside it), a gated promotion that fails
 * changes no byte and no row of the database, one that passes puts the version in production, a
 * forced promotion is recorded with its reason, and rollback returns production to the version before.
 * Every step goes through the `jtune registry` command line; the gate runs the real model.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    Path dir, db, labels, test;

    record Run(int exit, String out, String err) {}

    static Run jtune(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @BeforeAll
    void demo(@TempDir Path tmp) throws Exception {
        dir = tmp;
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Demo.of(dir.resolve("demo"), DemoSize.REDUCED, new PrintStream(sink, true, StandardCharsets.UTF_8), null, false).run();
        db = dir.resolve("reg/registry.db");
        test = dir.resolve("demo/data/test.jsonl");
        TreeSet<String> set = new TreeSet<>();
        for (ChatTestSet.Example e : ChatTestSet.read(test)) set.add(e.reference());
        labels = Files.writeString(dir.resolve("labels.txt"), String.join("\n", set) + "\n");
    }

    @Test
    void registerGatedPromotionAndRollbackOnTheDemoRun() throws Exception {
        Path run = dir.resolve("demo/runs/lora");
        Run reg = jtune("registry", "register", run.toString(), "--name", "tickets", "--registry", db.toString(), "--json");
        assertEquals(0, reg.exit(), reg.err());
        JsonNode v1 = JSON.readTree(reg.out());
        assertEquals(1, v1.get("version").asInt());
        assertEquals("adapter", v1.get("kind").asText());
        assertTrue(v1.get("eval_metrics").get("accuracy").asDouble() > 0.3, "eval folder demo/eval/lora found: " + v1);

        Run show = jtune("registry", "show", "tickets", "1", "--registry", db.toString(), "--json");
        JsonNode lineage = JSON.readTree(show.out()).get("lineage");
        assertEquals(dir.resolve("demo/runs/pretrain/model").toRealPath().toString(), Path.of(lineage.get("base_model").get("path").asText()).toRealPath().toString());
        assertTrue(lineage.get("base_model").get("files").size() >= 3, "base model files hashed");
        assertEquals(2, lineage.get("datasets").size(), "train and validation files");
        assertTrue(lineage.get("data_check").get("passed").asBoolean(), lineage.get("data_check").toString());
        assertTrue(lineage.get("data_check").at("/files/0/tokens/counter").asText().startsWith("tokenizer of"),
                "lengths counted with the base model's tokenizer, as training counts them: " + lineage.get("data_check"));
        assertEquals(16, lineage.get("recipe").get("lora_r").asInt());
        assertTrue(lineage.get("training").get("best").has("val_accuracy"));

        // a gate the fine-tuned model cannot pass: refused, exit 1, the database unchanged byte for byte and row for row
        Path impossible = Files.writeString(dir.resolve("impossible.yaml"), "rules:\n  - accuracy >= 1.01\n");
        byte[] bytes = Files.readAllBytes(db);
        List<String> rows = rows();
        Run refused = jtune("registry", "promote", "tickets", "1", "--to", "production", "--gate", impossible.toString(), "--data",
                test.toString(), "--labels", labels.toString(), "--registry", db.toString(), "--resamples", "200", "--json");
        assertEquals(1, refused.exit(), refused.err());
        assertFalse(JSON.readTree(refused.out()).get("promoted").asBoolean());
        assertTrue(refused.err().contains("nothing changed"), refused.err());
        assertArrayEquals(bytes, Files.readAllBytes(db));
        assertEquals(rows, rows());

        // the real gate: better than the base model it was tuned from
        Path gate = Files.writeString(dir.resolve("gate.yaml"), "rules:\n  - accuracy.delta >= 0.2\n  - accuracy >= 0.5\n");
        Run promoted = jtune("registry", "promote", "tickets", "1", "--to", "production", "--gate", gate.toString(), "--data", test.toString(),
                "--labels", labels.toString(), "--registry", db.toString(), "--resamples", "200", "--json");
        assertEquals(0, promoted.exit(), promoted.err());
        JsonNode p = JSON.readTree(promoted.out());
        assertTrue(p.get("baseline").asText().startsWith("base "), p.toString());
        assertTrue(p.get("evaluation").get("gate").get("passed").asBoolean());

        // a second version (the same run registered again), forced in with a reason since it cannot beat itself
        assertEquals(0, jtune("registry", "register", run.toString(), "--name", "tickets", "--registry", db.toString()).exit());
        Run notBetter = jtune("registry", "promote", "tickets", "2", "--gate", gate.toString(), "--data", test.toString(), "--labels",
                labels.toString(), "--registry", db.toString(), "--resamples", "200");
        assertEquals(1, notBetter.exit(), notBetter.err());
        Run forced = jtune("registry", "promote", "tickets", "2", "--gate", gate.toString(), "--data", test.toString(), "--labels",
                labels.toString(), "--registry", db.toString(), "--resamples", "200", "--force", "--reason", "same weights, new lineage");
        assertEquals(0, forced.exit(), forced.err());
        assertTrue(forced.err().contains("FORCED"), forced.err());

        Run list = jtune("registry", "list", "tickets", "--registry", db.toString(), "--json");
        List<String> stages = list.out().lines().map(l -> {
            try {
                return JSON.readTree(l).get("stage").asText();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        assertEquals(List.of("archived", "production"), stages);

        Run back = jtune("registry", "rollback", "tickets", "--reason", "drift alert", "--registry", db.toString(), "--json");
        assertEquals(0, back.exit(), back.err());
        assertEquals(1, JSON.readTree(back.out()).get("to_version").asInt());
        assertEquals("production", JSON.readTree(jtune("registry", "show", "tickets", "--registry", db.toString(), "--json").out())
                .get("stage").asText());

        Run audit = jtune("registry", "audit", "tickets", "--registry", db.toString(), "--json");
        List<JsonNode> entries = new ArrayList<>();
        for (String l : audit.out().lines().toList()) entries.add(JSON.readTree(l));
        JsonNode forcedEntry = entries.stream().filter(e -> e.get("action").asText().equals("promote") && e.get("version").asInt() == 2).findFirst().orElseThrow();
        assertEquals("same weights, new lineage", forcedEntry.get("reason").asText());
        assertTrue(forcedEntry.get("details").get("forced").asBoolean());
        assertEquals("drift alert", entries.getLast().get("reason").asText());
        assertEquals(2, jtune("registry", "rollback", "tickets", "--registry", db.toString()).exit(), "nothing earlier than version 1");

        Run diff = jtune("registry", "diff", "tickets", "1", "2", "--registry", db.toString(), "--json");
        assertEquals(0, diff.exit(), diff.err());
        for (JsonNode c : JSON.readTree(diff.out()).get("changes")) {
            assertFalse(c.get("key").asText().startsWith("recipe."), "same run, same recipe: " + c);
        }
    }

    private List<String> rows() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            for (String t : List.of("registry_schema", "registry_models", "registry_artifacts", "registry_versions", "registry_production", "registry_audit")) {
                try (ResultSet rs = s.executeQuery("SELECT * FROM " + t + " ORDER BY 1")) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        StringBuilder sb = new StringBuilder(t);
                        for (int i = 1; i <= n; i++) sb.append('|').append(rs.getString(i));
                        out.add(sb.toString());
                    }
                }
            }
        }
        return out;
    }
}
