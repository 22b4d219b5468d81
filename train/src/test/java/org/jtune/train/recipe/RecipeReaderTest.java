package org.jtune.train.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeReaderTest {
    private static final Path DIR = Path.of("/recipes/banking");
    private static final String MINIMAL = """
            base_model: ../models/smollm2
            datasets:
              - path: data/train.jsonl
                type: chat
            """;

    private static RecipeConfig parse(String yaml) throws RecipeException {
        return RecipeReader.parse(yaml, "banking.yaml", DIR);
    }

    private static String error(String yaml) {
        return assertThrows(RecipeException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void minimalRecipeGetsDefaultsAndResolvedPaths() throws RecipeException {
        RecipeConfig c = parse(MINIMAL);
        assertEquals(Path.of("/recipes/models/smollm2"), c.baseModel());
        assertEquals(List.of(new DatasetSpec(Path.of("/recipes/banking/data/train.jsonl"), DatasetSpec.Type.CHAT, null)), c.datasets());
        assertEquals(Path.of("/recipes/banking/outputs"), c.outputDir());
        assertEquals(2e-4, c.learningRate());
        assertEquals(RecipeConfig.Adapter.LORA, c.adapter());
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj"), c.loraTargetModules());
        assertEquals(0.03, c.warmupRatio());
        assertEquals(3, c.warmupSteps(100)); // ceil(0.03 * 100)
        assertEquals(8, c.effectiveBatchSize());
        assertEquals(600, c.totalSteps(200));
        assertFalse(c.hasValidation());
        assertTrue(c.trainableTokenIndices().isEmpty());
    }

    @Test
    void everyKindOfValueIsRead() throws RecipeException {
        RecipeConfig c = parse("""
                base_model: /models/llama
                datasets:
                  - {path: /data/a.jsonl, type: alpaca, split: train}
                  - path: b.jsonl
                    type: ShareGPT
                chat_template: "{% for m in messages %}{{ m.content }}{% endfor %}"
                system_message: You are a banking assistant.
                validation_path: val.jsonl
                sequence_len: 512
                sample_packing: yes
                adapter: lora
                lora_r: 16
                lora_alpha: 32
                lora_target_modules: all-linear
                use_rslora: true
                loraplus_lr_ratio: 16
                neftune_noise_alpha: 5
                peft_use_dora: true
                trainable_token_indices: [5, eos, "<|im_end|>"]
                learning_rate: 1e-4
                lr_scheduler: linear
                warmup_steps: 10
                max_steps: 200
                optimizer: sgd
                eval_steps: 20
                early_stopping_patience: 3
                eval_accuracy: true
                seed: -7
                output_dir: runs/r1
                mlflow_tracking_uri: http://127.0.0.1:5000
                threads: 2
                """);
        assertEquals(DatasetSpec.Type.ALPACA, c.datasets().get(0).type());
        assertEquals("train", c.datasets().get(0).split());
        assertEquals(new DatasetSpec(DIR.resolve("b.jsonl"), DatasetSpec.Type.SHAREGPT, null), c.datasets().get(1));
        assertTrue(c.chatTemplate().startsWith("{% for"));
        assertEquals(DIR.resolve("val.jsonl"), c.validationPath());
        assertTrue(c.samplePacking());
        assertTrue(c.allLinearTargets());
        assertEquals(32 / Math.sqrt(16), c.loraScale(), 1e-12);
        assertEquals(16.0, c.loraplusLrRatio());
        assertEquals(5.0, c.neftuneNoiseAlpha());
        assertTrue(c.peftUseDora());
        assertEquals(new TokenIndices(List.of(5), List.of("eos", "<|im_end|>")), c.trainableTokenIndices());
        assertEquals(1e-4, c.learningRate());
        assertEquals(10, c.warmupSteps());
        assertNull(c.warmupRatio(), "warmup_steps alone replaces the default ratio");
        assertEquals(200, c.totalSteps(1_000_000));
        assertEquals(RecipeConfig.OptimizerKind.SGD, c.optimizer());
        assertEquals(-7, c.seed());
        assertEquals(DIR.resolve("runs/r1"), c.outputDir());
        assertEquals(2, c.threads());
    }

    @Test
    void loraPlusNeedsAPositiveRatioAndAnAdapter() {
        assertNull(RecipeConfig.builder().build().loraplusLrRatio(), "off unless asked");
        assertTrue(error(MINIMAL + "loraplus_lr_ratio: 0\n").contains("loraplus_lr_ratio"), error(MINIMAL + "loraplus_lr_ratio: 0\n"));
        assertTrue(error(MINIMAL + "neftune_noise_alpha: -1\n").contains("neftune_noise_alpha"));
        String full = error(MINIMAL + "adapter: full\nloraplus_lr_ratio: 16\n");
        assertTrue(full.contains("loraplus_lr_ratio applies to LoRA's B matrices"), full);
    }

    @Test
    void unknownKeySuggestsTheClosest() {
        String m = error(MINIMAL + "learnng_rate: 0.001\n");
        assertEquals("banking.yaml line 5: unknown key 'learnng_rate' (did you mean 'learning_rate'?)", m);
        String far = error(MINIMAL + "colour: blue\n");
        assertEquals("banking.yaml line 5: unknown key 'colour'", far);
        String axolotl = error(MINIMAL + "lora_target_module: [q_proj]\n");
        assertTrue(axolotl.contains("did you mean 'lora_target_modules'"), axolotl);
    }

    @Test
    void unknownKeyInsideADataset() {
        String m = error("""
                base_model: m
                datasets:
                  - path: a.jsonl
                    typ: chat
                """);
        assertEquals("banking.yaml line 4: unknown key 'typ' in datasets[0] (did you mean 'type'?); a dataset has path, type and split", m);
        String noType = error("""
                base_model: m
                datasets:
                  - path: a.jsonl
                """);
        assertTrue(noType.startsWith("banking.yaml line 3: datasets[0] needs a type"), noType);
    }

    @Test
    void wrongTypeNamesKeyFileAndLine() {
        assertEquals("banking.yaml line 5: micro_batch_size must be a whole number in [1, 65536], got 'four'",
                error(MINIMAL + "micro_batch_size: four\n"));
        assertEquals("banking.yaml line 5: sample_packing must be true or false, got 'maybe'", error(MINIMAL + "sample_packing: maybe\n"));
        assertEquals("banking.yaml line 5: lora_r must be a whole number in [1, 4096], got 8.5", error(MINIMAL + "lora_r: 8.5\n"));
        assertEquals("banking.yaml line 5: learning_rate must be a number in (0, 1], got the quoted string \"2e-4\" (remove the quotes)",
                error(MINIMAL + "learning_rate: \"2e-4\"\n"));
        assertEquals("banking.yaml line 5: lora_target_modules must be a list of module names (q_proj, v_proj, …) or \"all-linear\", got 'q_proj'",
                error(MINIMAL + "lora_target_modules: q_proj\n"));
        assertEquals("banking.yaml line 2: datasets must be a list of {path, type} entries, got 'data.jsonl'",
                error("base_model: m\ndatasets: data.jsonl\n"));
        assertEquals("banking.yaml line 5: num_epochs must be a whole number in [1, 100000], got nothing (null)", error(MINIMAL + "num_epochs:\n"));
    }

    @Test
    void outOfRangeValues() {
        assertEquals("banking.yaml line 5: learning_rate must be a number in (0, 1], got -0.1", error(MINIMAL + "learning_rate: -0.1\n"));
        assertEquals("banking.yaml line 5: lora_dropout must be a number in [0, 1), got 1", error(MINIMAL + "lora_dropout: 1\n"));
        assertEquals("banking.yaml line 5: adam_beta2 must be a number in [0, 1), got 1.5", error(MINIMAL + "adam_beta2: 1.5\n"));
        assertEquals("banking.yaml line 5: val_set_size must be a fraction below 1 or a whole number of rows, got 2.5",
                error(MINIMAL + "val_set_size: 2.5\n"));
        assertTrue(error(MINIMAL + "weight_decay: .nan\n").contains("weight_decay must be a number >= 0"));
        assertTrue(error(MINIMAL + "mlflow_tracking_uri: file:///tmp/mlruns\n").contains("an http:// or https:// address"));
    }

    @Test
    void wrongEnumSuggestsTheClosestValue() {
        assertEquals("banking.yaml line 5: lr_scheduler must be one of cosine, linear, constant, got 'cosin' (did you mean 'cosine'?)",
                error(MINIMAL + "lr_scheduler: cosin\n"));
        assertEquals("banking.yaml line 5: chat_template must be one of chatml, llama2, llama3, mistral, tokenizer_default or a Jinja template string, got 'chatm1' (did you mean 'chatml'?)",
                error(MINIMAL + "chat_template: chatm1\n"));
        assertTrue(error("base_model: m\ndatasets:\n  - {path: a, type: openai}\n").contains("datasets[0].type must be one of chat, alpaca, sharegpt, completion, text"));
    }

    @Test
    void duplicateKeysAndBadYaml() {
        assertEquals("banking.yaml line 6: duplicate key 'lora_r' (first set on line 5)", error(MINIMAL + "lora_r: 8\nlora_r: 16\n"));
        String syntax = error(MINIMAL + "lora_r: [8\n");
        assertTrue(syntax.startsWith("banking.yaml line ") && syntax.contains("invalid YAML"), syntax);
        // snakeyaml refuses global tags itself; local application tags are refused by the reader
        assertEquals("banking.yaml line 5: invalid YAML: Global tag is not allowed: tag:yaml.org,2002:python/object:os.system",
                error(MINIMAL + "seed: !!python/object:os.system [ls]\n"));
        assertEquals("banking.yaml line 5: unsupported YAML tag !java.io.File: a recipe holds plain values only",
                error(MINIMAL + "output_dir: !java.io.File /tmp\n"));
        assertEquals("banking.yaml: the recipe is empty; base_model and datasets are required", error(""));
        assertTrue(error("- a\n- b\n").contains("a recipe must be a mapping"));
    }

    @Test
    void contradictionsAndMissingRequiredKeys() {
        assertEquals("banking.yaml: base_model is required (the folder of a Hugging Face model)",
                error("datasets:\n  - {path: a, type: chat}\n"));
        assertEquals("banking.yaml line 5: set warmup_steps or warmup_ratio, not both", error(MINIMAL + "warmup_steps: 5\nwarmup_ratio: 0.1\n"));
        assertEquals("banking.yaml line 5: early_stopping_patience needs a validation set (val_set_size or validation_path)",
                error(MINIMAL + "early_stopping_patience: 2\n"));
        assertEquals("banking.yaml line 5: set val_set_size or validation_path, not both", error(MINIMAL + "val_set_size: 0.1\nvalidation_path: v.jsonl\n"));
    }

    @Test
    void toYamlReadsBackEqual(@TempDir Path tmp) throws Exception {
        RecipeConfig c = parse(MINIMAL + """
                system_message: "Answer: yes or no"
                trainable_token_indices: eos
                lora_target_modules: all-linear
                adam_epsilon: 1e-6
                warmup_steps: 4
                val_set_size: 0.1
                early_stopping_patience: 2
                """);
        String yaml = c.toYaml();
        Path copy = tmp.resolve("elsewhere/config.yaml");
        Files.createDirectories(copy.getParent());
        Files.writeString(copy, yaml);
        assertEquals(c, RecipeReader.read(copy), yaml);
        RecipeConfig defaults = parse(MINIMAL);
        assertEquals(defaults, RecipeReader.parse(defaults.toYaml(), "copy", tmp));
        List<String> written = defaults.toYaml().lines().filter(l -> !l.startsWith(" ") && !l.startsWith("#") && !l.startsWith("-"))
                .map(l -> l.substring(0, l.indexOf(':'))).toList();
        for (var comp : RecipeConfig.class.getRecordComponents()) {
            Object v = comp.getAccessor().invoke(defaults);
            boolean unset = v == null || v instanceof TokenIndices t && t.isEmpty();
            assertEquals(!unset, written.contains(RecipeConfig.keyOf(comp.getName())), comp.getName());
        }
    }

    @Test
    void missingFileIsNamed(@TempDir Path tmp) {
        var e = assertThrows(RecipeException.class, () -> RecipeReader.read(tmp.resolve("nope.yaml")));
        assertTrue(e.getMessage().contains("nope.yaml"), e.getMessage());
    }

    @Test
    void closestKeyDistance() {
        assertEquals(3, ClosestKey.distance("kitten", "sitting"));
        assertEquals(0, ClosestKey.distance("", ""));
        assertEquals("seed", ClosestKey.suggest("sed", RecipeConfig.keys()));
    }
}
