package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jtune.io.AtomicFile;
import org.jtune.testing.SharedData;
import org.jtune.train.run.FineTune;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reproductions of issue 11 that need no kill or full disk, through the CLI in this JVM: each
 * ends with exit != 0 and one line naming the problem (no stack trace, no Java class name), or with a
 * correct result; none changes an input. The fault-injection suite ({@code faults/}) covers kills,
 * full disks and concurrent processes.
 */
class CarelessUseTest {
    @TempDir
    Path tmp;
    Path model;

    @BeforeEach
    void copyTheModel() throws Exception {
        Path shared = SharedData.require("models/stories260K");
        model = Files.createDirectories(tmp.resolve("stories260K"));
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "generation_config.json")) {
            Files.copy(shared.resolve(f), model.resolve(f));
        }
    }

    /** Issue 11 case 2: merge --out equal to --model (or to --adapter) is refused; both stay byte-identical. */
    @Test
    void case2MergeOverItsOwnInputIsRefused() throws Exception {
        Path adapter = adapter();
        Map<String, String> modelBefore = snapshot(model), adapterBefore = snapshot(adapter);
        for (Path out : List.of(model, tmp.resolve("stories260K/"), tmp.resolve("x/../stories260K"), adapter)) {
            CliRun r = CliRun.of("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", out.toString());
            assertTrue(r.failedWithOneLine("merge", "is the same folder as"), r.toString());
        }
        CliRun parent = CliRun.of("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", tmp.toString());
        assertTrue(parent.failedWithOneLine("merge", "contains --model"), parent.toString());
        assertEquals(modelBefore, snapshot(model));
        assertEquals(adapterBefore, snapshot(adapter));
    }

    /** Issue 11 case 5: eval --out equal to --baseline (or holding the baseline's file) is refused; the baseline stays. */
    @Test
    void case5EvalOverItsBaselineIsRefused() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("eval-base"));
        StringBuilder preds = new StringBuilder();
        for (int i = 0; i < 10; i++) preds.append("{\"id\":\"").append(i).append("\",\"reference\":\"a\",\"prediction\":\"").append(i % 2 == 0 ? "a" : "b").append("\"}\n");
        Files.writeString(base.resolve("predictions.jsonl"), preds);
        Path cand = Files.writeString(tmp.resolve("cand.jsonl"), preds.toString().replace("\"b\"", "\"a\""));
        Map<String, String> before = snapshot(base);
        CliRun same = CliRun.of("eval", "--predictions", cand.toString(), "--baseline", base.toString(), "--out", base.toString());
        assertTrue(same.failedWithOneLine("eval", "--out", "same folder as --baseline"), same.toString());
        CliRun holding = CliRun.of("eval", "--predictions", cand.toString(), "--baseline", base.resolve("predictions.jsonl").toString(),
                "--out", base.toString());
        assertTrue(holding.failedWithOneLine("eval", "contains --baseline"), holding.toString());
        assertEquals(before, snapshot(base));
        CliRun ok = CliRun.of("eval", "--predictions", cand.toString(), "--baseline", base.toString(), "--out", tmp.resolve("eval-new").toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertEquals(before, snapshot(base));
    }

    /** Issue 11 "refusal to write over an input", data preparation: an output that is the input is refused, the input stays. */
    @Test
    void dataCommandsDoNotWriteOverTheirInput() throws Exception {
        Path csv = Files.writeString(tmp.resolve("tickets.csv"), "text,label\nmy card,card\n");
        CliRun convert = CliRun.of("data", "convert", "--input", csv.toString(), "--to", "chat", "--user-column", "text",
                "--assistant-column", "label", "--out", csv.toString());
        assertTrue(convert.failedWithOneLine("data convert", "same file as --input"), convert.toString());
        assertEquals("text,label\nmy card,card\n", Files.readString(csv));
        Path d = Files.createDirectories(tmp.resolve("data"));
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n";
        Path train = Files.writeString(d.resolve("train.jsonl"), line.repeat(10));
        CliRun split = CliRun.of("data", "split", "--input", train.toString(), "--ratios", "0.8,0.2", "--seed", "1", "--out-dir", d.toString());
        assertTrue(split.failedWithOneLine("data split", "same file as --input"), split.toString());
        assertEquals(line.repeat(10), Files.readString(train));
    }

    /** Issue 11 case 9: a config.json with fewer layers than its checkpoint is refused, naming the extra tensors. */
    @Test
    void case9FewerLayersInConfigIsRefused() throws Exception {
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 3"));
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--max-new-tokens", "4");
        assertTrue(r.failedWithOneLine("generate", "model.layers.3.", "config.json does not account for"), r.toString());
    }

    /** Issue 11 case 9: train --json writes JSON — quotes and backslashes in paths escaped, a loss that is not a number as null. */
    @Test
    void case9TrainJsonIsValidJson() throws Exception {
        Path data = Files.writeString(tmp.resolve("d.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n".repeat(4));
        Path recipe = Files.writeString(tmp.resolve("r.yaml"), "base_model: " + model + "\ndatasets:\n  - path: " + data
                + "\n    type: chat\nchat_template: llama2\nadapter: lora\nlora_r: 2\nlora_target_modules: [q_proj]\nsequence_len: 64\n"
                + "max_steps: 1\nmicro_batch_size: 2\nthreads: 1\n");
        Path odd = tmp.resolve("we\"ird\\run");
        CliRun r = CliRun.of("train", recipe.toString(), "--output-dir", odd.toString(), "--json");
        assertEquals(0, r.exit(), r.toString());
        var json = new ObjectMapper().readTree(r.out());
        assertEquals(odd.toString(), json.get("run_dir").asText());
        assertTrue(json.get("loss").isNumber() && json.get("val_loss").isNull(), r.out());
    }

    /** The --json line of a run whose numbers are not finite: null, as JSON has no NaN. */
    @Test
    void case9TrainJsonWritesNonFiniteNumbersAsNull() throws Exception {
        Path odd = tmp.resolve("x");
        String line = TrainCommand.resultJson(new FineTune.Result(odd, odd.resolve("adapter"), 3, Double.NaN, null, Double.POSITIVE_INFINITY, 1.5));
        var json = new ObjectMapper().readTree(line);
        assertTrue(json.get("loss").isNull() && json.get("val_loss").isNull() && json.get("val_accuracy").isNull(), line);
        assertEquals(3, json.get("steps").asInt());
    }

    /** Issue 11 cases 9, 10 and 11: eval flags that hung, crashed or scored nothing are refused before the model loads. */
    @Test
    void case9To11EvalFlagsAreCheckedFirst() throws Exception {
        Path data = Files.writeString(tmp.resolve("test.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n");
        String[] base = {"eval", "--model", model.toString(), "--data", data.toString(), "--chat-template", "llama2"};
        CliRun batch = CliRun.of(concat(base, "--batch-size", "0"));
        assertTrue(batch.failedWithOneLine("eval", "--batch-size must be at least 1"), batch.toString());
        CliRun limit = CliRun.of(concat(base, "--limit", "-1"));
        assertTrue(limit.failedWithOneLine("eval", "--limit must be at least 1"), limit.toString());
        CliRun none = CliRun.of(concat(base, "--max-new-tokens", "0"));
        assertTrue(none.failedWithOneLine("eval", "--max-new-tokens must be at least 1"), none.toString());
        CliRun huge = CliRun.of(concat(base, "--max-new-tokens", "2000000000"));
        assertTrue(huge.failedWithOneLine("eval", "more than the model's whole context of 512"), huge.toString());
    }

    /** Issue 11 case 11: generate's absurd --max-new-tokens and bad sampling flags end in one line, no OutOfMemoryError. */
    @Test
    void case11GenerateFlagsEndInOneLine() throws Exception {
        CliRun huge = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--max-new-tokens", "2000000000");
        assertTrue(huge.failedWithOneLine("generate", "--max-new-tokens 2000000000 is more than the model's whole context of 512"), huge.toString());
        for (String[] bad : new String[][] {{"--temperature", "-1"}, {"--top-p", "0"}, {"--top-p", "1.5"}, {"--top-k", "-3"}, {"--min-p", "1"},
                {"--repetition-penalty", "0"}}) {
            CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", bad[0], bad[1]);
            assertTrue(r.failedWithOneLine("generate", bad[0]), r.toString());
        }
        CliRun ok = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once upon", "--max-new-tokens", "500", "--json");
        assertEquals(0, ok.exit(), ok.toString());
        var json = new ObjectMapper().readTree(ok.out());
        assertTrue(json.get("prompt_ids").size() + json.get("output_ids").size() <= 512 + 1, "stops at the context: " + ok.out());
    }

    /** Issue 11 case 11: recipe mistakes end in one line naming the key (and the line when the reader sees it). */
    @Test
    void case11RecipeMistakesEndInOneLine() throws Exception {
        Path data = Files.writeString(tmp.resolve("d.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n".repeat(4));
        String recipe = "base_model: " + model + "\ndatasets:\n  - path: " + data + "\n    type: chat\nchat_template: llama2\nadapter: lora\n"
                + "sequence_len: 64\nmax_steps: 1\nmicro_batch_size: 2\nthreads: 1\n";
        Path q = Files.writeString(tmp.resolve("q.yaml"), recipe + "lora_target_modules: [qproj]\n");
        CliRun r = CliRun.of("train", q.toString(), "--output-dir", tmp.resolve("q").toString());
        assertTrue(r.failedWithOneLine("train", "lora_target_modules", "has no module 'qproj' (did you mean 'q_proj'?)"), r.toString());
        Path t = Files.writeString(tmp.resolve("t.yaml"), recipe + "trainable_token_indices: [99999]\n");
        r = CliRun.of("train", t.toString(), "--output-dir", tmp.resolve("t").toString());
        assertTrue(r.failedWithOneLine("train", "trainable_token_indices: token 99999 is outside the vocabulary"), r.toString());
        Path big = Files.writeString(tmp.resolve("r.yaml"), recipe + "lora_r: 4096\n");
        r = CliRun.of("train", big.toString(), "--output-dir", tmp.resolve("r").toString());
        assertTrue(r.failedWithOneLine("train", "lora_r: 4096 is larger than"), r.toString());
        r = CliRun.of("train", "--resume", tmp.resolve("no-such-run").toString());
        assertTrue(r.failedWithOneLine("train", "no-such-run: no such run folder"), r.toString());
        r = CliRun.of("train", "--resume", tmp.toString());
        assertTrue(r.failedWithOneLine("train", "not a run folder"), r.toString());
    }

    /** Issue 11 case 10: a sequence_len past the model's context (with packing, it hung) is shortened to the context, saying so. */
    @Test
    void case10SequenceLenIsComparedWithTheContext() throws Exception {
        Path data = Files.writeString(tmp.resolve("d.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n".repeat(4));
        Path recipe = Files.writeString(tmp.resolve("l.yaml"), "base_model: " + model + "\ndatasets:\n  - path: " + data
                + "\n    type: chat\nchat_template: llama2\nadapter: lora\nlora_r: 2\nlora_target_modules: [q_proj]\n"
                + "sequence_len: 1048576\nsample_packing: true\nmax_steps: 1\nmicro_batch_size: 2\nthreads: 1\n");
        long t0 = System.nanoTime();
        CliRun r = CliRun.of("train", recipe.toString(), "--output-dir", tmp.resolve("l").toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("sequence_len: 1048576 is longer than the model's context of 512 tokens")
                && r.err().contains("training with sequence_len 512"), r.err());
        assertTrue(Files.readString(tmp.resolve("l/config.yaml")).contains("sequence_len: 512"), "the run says what it ran");
        assertTrue(System.nanoTime() - t0 < 120_000_000_000L, "no hang");
    }

    /** Issue 11 case 12: a missing baseline or a bad gate is reported before the candidate is generated. */
    @Test
    void case12BaselineAndGateAreCheckedBeforeGenerating() throws Exception {
        Path data = Files.writeString(tmp.resolve("test.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n");
        String[] base = {"eval", "--model", model.toString(), "--data", data.toString(), "--chat-template", "llama2", "--max-new-tokens", "2"};
        CliRun missing = CliRun.of(concat(base, "--baseline", tmp.resolve("no-such-eval").toString()));
        assertTrue(missing.failedWithOneLine("eval", "--baseline", "no such file or folder"), missing.toString());
        assertFalse(missing.err().contains("examples generated"), "nothing generated first: " + missing.err());
        Path gate = Files.writeString(tmp.resolve("gate.yaml"), "- accuracy >=\n");
        CliRun badGate = CliRun.of(concat(base, "--gate", gate.toString()));
        assertTrue(badGate.failedWithOneLine("eval", "gate.yaml:1"), badGate.toString());
        assertFalse(badGate.err().contains("examples generated"), "nothing generated first: " + badGate.err());
        Path notEval = Files.createDirectories(tmp.resolve("not-an-eval"));
        CliRun wrong = CliRun.of(concat(base, "--baseline", notEval.toString()));
        assertTrue(wrong.failedWithOneLine("eval", "neither a model folder"), wrong.toString());
    }

    /** Issue 11 case 12: jtune chat drops the oldest turns when the conversation outgrows the context, and says so. */
    @Test
    void case12ChatTrimsTheOldestTurns() throws Exception {
        String turn = "the little dog ran to the park and played with a red ball ".repeat(10).strip();
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < 6; i++) in.append(turn).append('\n');
        in.append("big ".repeat(700)).append('\n').append("hello\n");
        CliRun r = CliRun.withInput(in.toString(), "chat", "--model", model.toString(), "--chat-template", "llama2", "--max-new-tokens", "16");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.err().contains("oldest message") && r.err().contains("to fit the model's context of 512 tokens"), r.err());
        assertTrue(r.err().contains("tokens with the template") && r.err().contains("not sent"), r.err());
        assertEquals(9, r.err().split("> ", -1).length - 1, "a prompt for each of the 8 lines and the end of input: " + r.err());
    }

    /** Issue 11 case 12: "cannot create PATH: PATH" says why; outputs are 0644 (no 0600 checkpoint or report). */
    @Test
    void case12ErrorsSayWhyAndOutputsAreReadable() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Path data = Files.writeString(tmp.resolve("d.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n".repeat(4));
        Path recipe = Files.writeString(tmp.resolve("r.yaml"), "base_model: " + model + "\ndatasets:\n  - path: " + data
                + "\n    type: chat\nchat_template: llama2\nadapter: lora\nlora_r: 2\nlora_target_modules: [q_proj]\nsequence_len: 64\n"
                + "max_steps: 2\nsave_steps: 1\nmicro_batch_size: 2\nthreads: 1\n");
        CliRun r = CliRun.of("train", recipe.toString(), "--output-dir", file.resolve("run").toString());
        assertTrue(r.failedWithOneLine("train", "cannot create"), r.toString());
        assertFalse(r.lastErrLine().endsWith(": " + file.resolve("run")) || r.lastErrLine().endsWith(": " + file), "says why: " + r.lastErrLine());
        Path run = tmp.resolve("run");
        CliRun ok = CliRun.of("train", recipe.toString(), "--output-dir", run.toString());
        assertEquals(0, ok.exit(), ok.toString());
        try (Stream<Path> s = Files.walk(run)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertEquals("rw-r--r--", mode, p.toString());
            }
        }
    }

    private Path adapter() throws Exception {
        Path data = Files.writeString(tmp.resolve("a.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n".repeat(4));
        Path recipe = Files.writeString(tmp.resolve("adapter.yaml"), "base_model: " + model + "\ndatasets:\n  - path: " + data
                + "\n    type: chat\nchat_template: llama2\nadapter: lora\nlora_r: 2\nlora_target_modules: [q_proj]\nsequence_len: 64\n"
                + "max_steps: 1\nmicro_batch_size: 2\nthreads: 1\n");
        CliRun r = CliRun.of("train", recipe.toString(), "--output-dir", tmp.resolve("adapter-run").toString());
        assertEquals(0, r.exit(), r.toString());
        return tmp.resolve("adapter-run/adapter");
    }

    /** Relative path -> SHA-256 of every file under {@code dir} (hidden lock files aside). */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), AtomicFile.sha256(p));
        }
        return m;
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
