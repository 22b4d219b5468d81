package org.jtune.train.recipe;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.train.recipe.RecipeConfig.Adapter;
import org.jtune.train.recipe.RecipeConfig.OptimizerKind;
import org.jtune.train.recipe.RecipeConfig.Scheduler;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a recipe YAML file into a {@link RecipeConfig}. The YAML is composed into a node tree and
 * converted here key by key (no Java objects are ever constructed from tags), so only the YAML core
 * types exist. Errors name the file and line: an unknown key (with the closest known key), a
 * duplicate key, a value of the wrong type or out of range, or keys that contradict each other.
 * Relative paths are resolved against the recipe's folder.
 */
public final class RecipeReader {
    private static final Set<Tag> CORE_TAGS = Set.of(Tag.STR, Tag.INT, Tag.FLOAT, Tag.BOOL, Tag.NULL, Tag.SEQ, Tag.MAP);
    private static final List<String> DATASET_KEYS = List.of("path", "type", "split");

    private RecipeReader() {}

    public static RecipeConfig read(Path file) throws RecipeException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new RecipeException("recipe file not found: " + file);
        } catch (IOException e) {
            throw new RecipeException("cannot read recipe " + file + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), dir);
    }

    /** Parses YAML text; {@code source} names it in messages, {@code baseDir} anchors relative paths. */
    public static RecipeConfig parse(String yaml, String source, Path baseDir) throws RecipeException {
        Node root = compose(yaml, source);
        if (root == null) throw new RecipeException(source + ": the recipe is empty; base_model and datasets are required");
        if (!(root instanceof MappingNode map)) {
            throw new RecipeException(where(source, line(root)) + "a recipe must be a mapping of key: value lines, got "
                    + YamlField.describe(root));
        }
        checkTags(root, source);
        List<String> known = RecipeConfig.keys();
        Map<String, Integer> lines = new HashMap<>();
        RecipeConfig.Builder b = RecipeConfig.builder();
        b.outputDir = baseDir.resolve("outputs").toAbsolutePath().normalize();
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k) || k.getTag().equals(Tag.NULL)) {
                throw new RecipeException(where(source, line(t.getKeyNode())) + "keys must be plain words, got " + YamlField.describe(t.getKeyNode()));
            }
            String key = k.getValue();
            int keyLine = line(k);
            if (!known.contains(key)) {
                throw new RecipeException(where(source, keyLine) + "unknown key '" + key + "'" + ClosestKey.hint(key, known));
            }
            Integer first = lines.putIfAbsent(key, keyLine);
            if (first != null) throw new RecipeException(where(source, keyLine) + "duplicate key '" + key + "' (first set on line " + first + ")");
            set(b, new YamlField(key, t.getValueNode(), source), baseDir);
        }
        if (lines.containsKey("warmup_steps") && !lines.containsKey("warmup_ratio")) b.warmupRatio = null;
        if (b.baseModel == null) throw new RecipeException(source + ": base_model is required (the folder of a Hugging Face model)");
        if (b.datasets.isEmpty()) throw new RecipeException(source + ": datasets is required: a list of {path, type} entries");
        for (var problem : b.problems().entrySet()) {
            Integer line = lines.get(problem.getKey());
            throw new RecipeException(where(source, line == null ? -1 : line) + problem.getValue());
        }
        return b.build();
    }

    private static Node compose(String yaml, String source) throws RecipeException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(true); // reported by us with both lines
        options.setMaxAliasesForCollections(20);
        options.setCodePointLimit(1 << 20);
        try {
            return new Yaml(new SafeConstructor(options)).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            var mark = e.getProblemMark();
            throw new RecipeException(where(source, mark == null ? -1 : mark.getLine() + 1) + "invalid YAML: " + e.getProblem(), e);
        } catch (YAMLException e) {
            throw new RecipeException(source + ": invalid YAML: " + e.getMessage(), e);
        }
    }

    /** Rejects application-specific tags (!!python/object, !!java…): a recipe holds plain data only. */
    private static void checkTags(Node n, String source) throws RecipeException {
        if (!CORE_TAGS.contains(n.getTag())) {
            throw new RecipeException(where(source, line(n)) + "unsupported YAML tag " + n.getTag() + ": a recipe holds plain values only");
        }
        switch (n) {
            case MappingNode m -> {
                for (NodeTuple t : m.getValue()) {
                    checkTags(t.getKeyNode(), source);
                    checkTags(t.getValueNode(), source);
                }
            }
            case SequenceNode s -> {
                for (Node c : s.getValue()) checkTags(c, source);
            }
            default -> {}
        }
    }

    static String where(String source, int line) {
        return line > 0 ? source + " line " + line + ": " : source + ": ";
    }

    private static int line(Node n) {
        return n.getStartMark() == null ? -1 : n.getStartMark().getLine() + 1;
    }

    private static final int MAX_INT = Integer.MAX_VALUE;

    private static void set(RecipeConfig.Builder b, YamlField f, Path dir) throws RecipeException {
        switch (f.key) {
            case "base_model" -> b.baseModel = f.path(dir);
            case "datasets" -> b.datasets = datasets(f, dir);
            case "chat_template" -> b.chatTemplate = chatTemplate(f);
            case "system_message" -> b.systemMessage = f.isNull() ? null : f.string();
            case "drop_system_message" -> b.dropSystemMessage = f.bool();
            case "val_set_size" -> b.valSetSize = valSetSize(f);
            case "validation_path" -> b.validationPath = f.isNull() ? null : f.path(dir);
            case "sequence_len" -> b.sequenceLen = f.integer(8, 1 << 20);
            case "excess_length_strategy" -> b.excessLengthStrategy = f.enumValue(RecipeConfig.ExcessLength.class);
            case "sample_packing" -> b.samplePacking = f.bool();
            case "train_on_inputs" -> b.trainOnInputs = f.bool();
            case "adapter" -> b.adapter = f.enumValue(Adapter.class);
            case "lora_r" -> b.loraR = f.integer(1, 4096);
            case "lora_alpha" -> b.loraAlpha = f.number("> 0", 0, false, Double.MAX_VALUE, true);
            case "lora_dropout" -> b.loraDropout = f.number("in [0, 1)", 0, true, 1, false);
            case "lora_target_modules" -> b.loraTargetModules = targetModules(f);
            case "use_rslora" -> b.useRslora = f.bool();
            case "peft_use_dora" -> b.peftUseDora = f.bool();
            case "neftune_noise_alpha" -> b.neftuneNoiseAlpha = f.isNull() ? null : f.number(">= 0", 0, true, Double.MAX_VALUE, true);
            case "loraplus_lr_ratio" -> b.loraplusLrRatio = f.isNull() ? null : f.number("> 0", 0, false, Double.MAX_VALUE, true);
            case "trainable_token_indices" -> b.trainableTokenIndices = tokenIndices(f);
            case "init_new_tokens_from_mean" -> b.initNewTokensFromMean = f.bool();
            case "learning_rate" -> b.learningRate = f.number("in (0, 1]", 0, false, 1, true);
            case "lr_scheduler" -> b.lrScheduler = f.enumValue(Scheduler.class);
            case "warmup_steps" -> b.warmupSteps = f.isNull() ? null : f.integer(0, MAX_INT);
            case "warmup_ratio" -> b.warmupRatio = f.isNull() ? null : f.number("in [0, 1]", 0, true, 1, true);
            case "cosine_min_lr_ratio" -> b.cosineMinLrRatio = f.number("in [0, 1]", 0, true, 1, true);
            case "num_epochs" -> b.numEpochs = f.integer(1, 100_000);
            case "max_steps" -> b.maxSteps = f.isNull() ? null : f.integer(1, MAX_INT);
            case "micro_batch_size" -> b.microBatchSize = f.integer(1, 1 << 16);
            case "gradient_accumulation_steps" -> b.gradientAccumulationSteps = f.integer(1, 1 << 16);
            case "optimizer" -> b.optimizer = f.enumValue(OptimizerKind.class);
            case "weight_decay" -> b.weightDecay = f.number(">= 0", 0, true, Double.MAX_VALUE, true);
            case "adam_beta1" -> b.adamBeta1 = f.number("in [0, 1)", 0, true, 1, false);
            case "adam_beta2" -> b.adamBeta2 = f.number("in [0, 1)", 0, true, 1, false);
            case "adam_epsilon" -> b.adamEpsilon = f.number("> 0", 0, false, 1, true);
            case "sgd_momentum" -> b.sgdMomentum = f.number("in [0, 1)", 0, true, 1, false);
            case "max_grad_norm" -> b.maxGradNorm = f.number(">= 0 (0 disables clipping)", 0, true, Double.MAX_VALUE, true);
            case "gradient_checkpointing" -> b.gradientCheckpointing = f.bool();
            case "eval_steps" -> b.evalSteps = f.isNull() ? null : f.integer(1, MAX_INT);
            case "save_steps" -> b.saveSteps = f.isNull() ? null : f.integer(1, MAX_INT);
            case "save_total_limit" -> b.saveTotalLimit = f.isNull() ? null : f.integer(1, MAX_INT);
            case "early_stopping_patience" -> b.earlyStoppingPatience = f.isNull() ? null : f.integer(1, MAX_INT);
            case "eval_accuracy" -> b.evalAccuracy = f.bool();
            case "seed" -> b.seed = f.integer(Long.MIN_VALUE, Long.MAX_VALUE);
            case "output_dir" -> b.outputDir = f.path(dir);
            case "logging_steps" -> b.loggingSteps = f.integer(1, MAX_INT);
            case "mlflow_tracking_uri" -> b.mlflowTrackingUri = f.isNull() ? null : trackingUri(f);
            case "mlflow_experiment_name" -> b.mlflowExperimentName = f.string();
            case "threads" -> b.threads = f.isNull() ? null : f.integer(1, 4096);
            case "device" -> b.device = f.isNull() ? null : device(f);
            case "balance" -> b.balance = f.enumValue(RecipeConfig.Balance.class);
            case "balance_max_ratio" -> b.balanceMaxRatio = f.number(">= 1", 1, true, Double.MAX_VALUE, true);
            case "load_in_4bit" -> b.loadIn4bit = f.bool();
            case "bnb_4bit_quant_type" -> b.bnb4bitQuantType = f.string();
            case "bnb_4bit_use_double_quant" -> b.bnb4bitUseDoubleQuant = f.bool();
            case "bnb_4bit_compute_dtype" -> b.bnb4bitComputeDtype = f.string();
            default -> throw new IllegalStateException("recipe key " + f.key + " has no reader case");
        }
    }

    /** cpu, TYPE or TYPE:INDEX (whether that device is present is checked when the run starts, naming it). */
    private static String device(YamlField f) throws RecipeException {
        String d = f.string().trim().toLowerCase(java.util.Locale.ROOT);
        if (!d.matches("cpu|[a-z]+(:[0-9]+)?")) throw f.error("a device: cpu, opencl[:N] or cuda[:N]");
        return d;
    }

    private static List<DatasetSpec> datasets(YamlField f, Path dir) throws RecipeException {
        List<DatasetSpec> out = new ArrayList<>();
        for (YamlField item : f.items("a list of {path, type} entries")) {
            if (!(item.node instanceof MappingNode m)) throw item.error("a mapping with path and type");
            Path path = null;
            DatasetSpec.Type type = null;
            String split = null;
            Set<String> seen = new LinkedHashSet<>();
            for (NodeTuple t : m.getValue()) {
                String k = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "?";
                YamlField v = new YamlField(item.key + "." + k, t.getValueNode(), f.source);
                if (!seen.add(k)) throw new RecipeException(v.where() + "duplicate key '" + k + "' in " + item.key);
                switch (k) {
                    case "path" -> path = v.path(dir);
                    case "type" -> type = v.enumValue(DatasetSpec.Type.class);
                    case "split" -> split = v.isNull() ? null : v.string();
                    default -> throw new RecipeException(RecipeReader.where(f.source, line(t.getKeyNode())) + "unknown key '" + k
                            + "' in " + item.key + ClosestKey.hint(k, DATASET_KEYS) + "; a dataset has path, type and split");
                }
            }
            if (path == null) throw new RecipeException(item.where() + item.key + " needs a path");
            if (type == null) {
                throw new RecipeException(item.where() + item.key + " needs a type (chat, alpaca, sharegpt, completion or text)");
            }
            out.add(new DatasetSpec(path, type, split));
        }
        if (out.isEmpty()) throw f.error("a non-empty list of {path, type} entries");
        return out;
    }

    private static String chatTemplate(YamlField f) throws RecipeException {
        String v = f.string();
        if (RecipeConfig.CHAT_TEMPLATE_NAMES.contains(v) || v.contains("{{") || v.contains("{%")) return v;
        throw new RecipeException(f.where() + "chat_template must be one of " + String.join(", ", RecipeConfig.CHAT_TEMPLATE_NAMES.stream().sorted().toList())
                + " or a Jinja template string, got '" + v + "'" + ClosestKey.hint(v, RecipeConfig.CHAT_TEMPLATE_NAMES));
    }

    private static double valSetSize(YamlField f) throws RecipeException {
        double v = f.number(">= 0 (a fraction below 1, or a whole number of rows)", 0, true, Double.MAX_VALUE, true);
        if (v >= 1 && v != Math.rint(v)) throw f.error("a fraction below 1 or a whole number of rows");
        return v;
    }

    private static List<String> targetModules(YamlField f) throws RecipeException {
        String expectation = "a list of module names (q_proj, v_proj, …) or \"all-linear\"";
        if (f.isSequence()) {
            List<String> out = new ArrayList<>();
            for (YamlField item : f.items(expectation)) {
                if (!item.isScalarOfTag(Tag.STR)) throw item.error("a module name");
                out.add(item.string()); // which names exist is the model's to say: checked against it before training
            }
            if (out.isEmpty()) throw f.error(expectation);
            return out;
        }
        if (f.isScalarOfTag(Tag.STR) && f.string().equals(RecipeConfig.ALL_LINEAR)) return List.of(RecipeConfig.ALL_LINEAR);
        throw f.error(expectation);
    }

    private static TokenIndices tokenIndices(YamlField f) throws RecipeException {
        if (f.isNull()) return TokenIndices.NONE;
        List<YamlField> items = f.isSequence() ? f.items("a list") : List.of(f);
        List<Integer> ids = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (YamlField item : items) {
            if (item.isScalarOfTag(Tag.INT)) ids.add(item.integer(0, MAX_INT));
            else if (item.isScalarOfTag(Tag.STR) && !item.string().isEmpty()) names.add(item.string());
            else throw item.error("a token id (a whole number >= 0) or a token name such as eos");
        }
        return new TokenIndices(ids, names);
    }

    private static String trackingUri(YamlField f) throws RecipeException {
        String v = f.string();
        if (v.startsWith("http://") || v.startsWith("https://")) return v;
        throw f.error("an http:// or https:// address of an MLflow tracking server");
    }
}
