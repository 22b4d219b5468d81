package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jtune.JtuneException;
import org.jtune.io.FolderLock;
import org.jtune.tensor.Parallel;
import org.jtune.testing.SharedData;
import org.jtune.train.checkpoint.CheckpointManifest;
import org.jtune.train.recipe.RecipeReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 at the level of the training recipe (stories260K, a few steps): one run per folder, no
 * reuse of a folder holding another run, a resume that names every way the run differs from its
 * checkpoint and falls back past a damaged checkpoint, a stop at the first non-finite step, and the
 * recipe checked against the model (and the data against the template) before the first step.
 */
class RunSafetyTest {
    @TempDir
    Path tmp;
    Path model, data;
    int threads;
    List<String> log = new ArrayList<>();

    final FineTune.Listener listener = new FineTune.Listener() {
        @Override
        public void info(String message) {
            log.add(message);
        }
    };

    @BeforeEach
    void setUp() throws Exception {
        model = SharedData.require("models/stories260K");
        List<String> lines = new ArrayList<>();
        String[][] pairs = {{"my card was charged twice", "duplicate"}, {"where is my transfer", "transfer"},
                {"the fee is too high", "fee"}, {"refund my payment please", "refund"}, {"cash machine took my card", "card"},
                {"I was charged twice today", "duplicate"}, {"transfer has not arrived", "transfer"}, {"why a fee here", "fee"}};
        for (String[] p : pairs) {
            lines.add("{\"messages\": [{\"role\": \"user\", \"content\": \"" + p[0] + "\"}, {\"role\": \"assistant\", \"content\": \"" + p[1] + "\"}]}");
        }
        data = Files.write(tmp.resolve("train.jsonl"), lines);
        threads = Parallel.threads();
    }

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threads);
    }

    /** The base recipe with the keys of {@code overrides} ("key: value" lines) replaced or added. */
    Path recipe(String name, String overrides) throws Exception {
        java.util.Map<String, String> keys = new java.util.LinkedHashMap<>();
        String base = """
                base_model: %s
                chat_template: llama2
                sequence_len: 64
                adapter: lora
                lora_r: 2
                lora_alpha: 4
                lora_target_modules: [q_proj, v_proj]
                learning_rate: 0.003
                max_steps: 4
                micro_batch_size: 2
                save_steps: 2
                threads: 1
                seed: 7
                output_dir: unused
                """.formatted(model);
        for (String line : (base + overrides).split("\n")) {
            if (line.isBlank()) continue;
            int colon = line.indexOf(':');
            keys.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
        }
        StringBuilder y = new StringBuilder("datasets:\n  - path: " + data + "\n    type: chat\n");
        keys.forEach((k, v) -> y.append(k).append(": ").append(v).append('\n'));
        return Files.writeString(tmp.resolve(name + ".yaml"), y.toString());
    }

    FineTune.Result run(Path recipe, Path runDir, boolean resume) throws Exception {
        return FineTune.run(RecipeReader.read(recipe), runDir, resume, listener);
    }

    @Test
    void aFolderInUseIsRefusedNamingTheHolder() throws Exception {
        Path run = tmp.resolve("run");
        try (FolderLock other = FolderLock.acquire(run, "another training")) {
            JtuneException e = assertThrows(JtuneException.class, () -> run(recipe("r", ""), run, false));
            assertTrue(e.getMessage().contains("is in use by") && e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
        }
        assertFalse(Files.exists(run.resolve("config.yaml")), "the refused run wrote nothing");
    }

    @Test
    void aFolderHoldingAnotherRunIsNotReused() throws Exception {
        Path run = tmp.resolve("run");
        run(recipe("r", ""), run, false);
        deleteTree(run.resolve("checkpoints"));
        byte[] metrics = Files.readAllBytes(run.resolve("metrics.jsonl")), config = Files.readAllBytes(run.resolve("config.yaml"));
        JtuneException e = assertThrows(JtuneException.class, () -> run(recipe("other", "learning_rate: 0.01"), run, false));
        assertTrue(e.getMessage().contains("already holds a run") && e.getMessage().contains("metrics.jsonl"), e.getMessage());
        assertArrayEquals(metrics, Files.readAllBytes(run.resolve("metrics.jsonl")), "metrics.jsonl untouched");
        assertArrayEquals(config, Files.readAllBytes(run.resolve("config.yaml")), "config.yaml untouched");
        JtuneException inBase = assertThrows(JtuneException.class, () -> run(recipe("r", ""), model, false));
        assertTrue(inBase.getMessage().contains("base_model"), inBase.getMessage());
    }

    @Test
    void resumeNamesEveryDifferenceFromTheCheckpoint() throws Exception {
        Path run = tmp.resolve("run");
        FineTune.Result done = run(recipe("r", ""), run, false);
        byte[] config = Files.readAllBytes(run.resolve("config.yaml"));

        JtuneException lr = assertThrows(JtuneException.class, () -> run(recipe("lr", "learning_rate: 0.01\nseed: 8"), run, true));
        assertTrue(lr.getMessage().contains("learning_rate: 0.003 in the checkpoint, 0.01 now")
                && lr.getMessage().contains("seed: 7 in the checkpoint, 8 now"), lr.getMessage());
        assertArrayEquals(config, Files.readAllBytes(run.resolve("config.yaml")), "config.yaml still says what the run is");

        JtuneException rank = assertThrows(JtuneException.class, () -> run(recipe("rank", "lora_r: 4"), run, true));
        assertTrue(rank.getMessage().contains("lora_r: 2 in the checkpoint, 4 now")
                && rank.getMessage().contains("lora_A.weight: shape [2, 64] in the checkpoint, [4, 64] now"), rank.getMessage());

        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        lines.set(0, lines.get(0).replace("duplicate", "double"));
        Files.write(data, lines);
        JtuneException changed = assertThrows(JtuneException.class, () -> run(recipe("r", ""), run, true));
        assertTrue(changed.getMessage().contains("datasets[0] " + data + " changed since the checkpoint"), changed.getMessage());
        assertTrue(Files.exists(done.output().resolve("adapter_model.safetensors")), "the finished run's adapter stays");
    }

    @Test
    void resumeFallsBackPastADamagedCheckpointAndEndsBitIdentical() throws Exception {
        byte[] straight = Files.readAllBytes(run(recipe("r", ""), tmp.resolve("straight"), false).output().resolve("adapter_model.safetensors"));
        Path again = tmp.resolve("again");
        run(recipe("r", ""), again, false);
        Path latest = again.resolve("checkpoints/checkpoint-000004/adapter_model.safetensors");
        byte[] b = Files.readAllBytes(latest);
        b[b.length - 3] ^= 0x40; // one flipped bit: the manifest's SHA-256 no longer matches
        Files.write(latest, b);
        deleteTree(again.resolve("adapter"));
        Files.delete(again.resolve("report.html"));
        FineTune.Result resumed = run(recipe("r", ""), again, true);
        assertTrue(log.stream().anyMatch(m -> m.contains("checkpoint-000004 is damaged") && m.contains("falling back")), log.toString());
        assertTrue(log.stream().anyMatch(m -> m.contains("resumed from") && m.contains("checkpoint-000002")), log.toString());
        assertEquals(4, resumed.steps());
        assertArrayEquals(straight, Files.readAllBytes(resumed.output().resolve("adapter_model.safetensors")), "bit-identical adapter");
        CheckpointManifest.read(again.resolve("checkpoints/checkpoint-000004")).verify(again.resolve("checkpoints/checkpoint-000004"));
    }

    @Test
    void aNonFiniteLossStopsTheRunBeforeTheUpdateNamingStepAndTensor() throws Exception {
        // finite weights (the load check passes) whose forward overflows: the final norm scaled to 3e38
        Path huge = Files.createDirectories(tmp.resolve("huge"));
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) Files.copy(model.resolve(f), huge.resolve(f));
        java.util.Map<String, org.jtune.tensor.Tensor> w = new java.util.LinkedHashMap<>();
        try (var r = org.jtune.models.io.SafetensorsReader.open(model.resolve("model.safetensors"))) {
            for (String n : r.names()) w.put(n, r.get(n).copy());
        }
        w.get("model.norm.weight").set(3e38f, 0);
        org.jtune.models.io.SafetensorsWriter.defaults().writeFile(huge.resolve("model.safetensors"), w);
        model = huge;
        Path run = tmp.resolve("run");
        JtuneException e = assertThrows(JtuneException.class, () -> run(recipe("boom", "save_steps: 1"), run, false));
        assertTrue(e.getMessage().startsWith("step 1: the loss is NaN (first in the gradient of base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight: NaN at")
                && e.getMessage().contains("training stopped") && e.getMessage().contains("No checkpoint had been written yet"), e.getMessage());
        assertFalse(Files.exists(run.resolve("adapter")), "no adapter from a diverged run");
        assertFalse(Files.exists(run.resolve("checkpoints")), "no checkpoint of non-finite weights");
        assertEquals(List.of(), Files.readAllLines(run.resolve("metrics.jsonl")), "no NaN row");
    }

    @Test
    void theRecipeIsCheckedAgainstTheModelBeforeTheDataIsRead() throws Exception {
        Files.writeString(data, "{ not json\n"); // reading the data would fail: these must fail first
        JtuneException r = assertThrows(JtuneException.class, () -> run(recipe("r", "lora_r: 4096"), tmp.resolve("a"), false));
        assertTrue(r.getMessage().contains("lora_r: 4096 is larger than") && r.getMessage().contains("use at most"), r.getMessage());
        JtuneException tok = assertThrows(JtuneException.class,
                () -> run(recipe("r", "trainable_token_indices: [99999]"), tmp.resolve("c"), false));
        assertTrue(tok.getMessage().contains("trainable_token_indices: token 99999 is outside the vocabulary of 512"), tok.getMessage());
    }

    @Test
    void dataWithNoTrainedTokenIsRefusedBeforeTraining() throws Exception {
        Path run = tmp.resolve("run");
        String userOnly = "chat_template: \"{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}{% endif %}{% endfor %}\"";
        JtuneException e = assertThrows(JtuneException.class, () -> run(recipe("t", userOnly), run, false));
        assertTrue(e.getMessage().contains("no token of the 8 training examples would be trained")
                && e.getMessage().contains("renders no assistant tokens"), e.getMessage());
        assertFalse(Files.exists(run.resolve("checkpoints")));

        List<String> lines = Files.readAllLines(data).stream()
                .map(l -> l.replace("\"role\": \"assistant\",", "\"role\": \"assistant\", \"weight\": 0,")).toList();
        Files.write(data, lines);
        e = assertThrows(JtuneException.class, () -> run(recipe("w", ""), tmp.resolve("w"), false));
        assertTrue(e.getMessage().contains("\"weight\": 0"), e.getMessage());
    }

    static void deleteTree(Path p) throws Exception {
        org.jtune.io.StagedFolder.deleteTree(p);
    }
}
