package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckJson;
import org.jtune.train.data.DataCheckOptions;
import org.jtune.train.recipe.DatasetSpec;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.report.MetricsLog;
import org.jtune.train.report.MetricsRow;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What a training run folder says about the version made from it (see FineTune's outputs): the
 * artifact ({@code adapter/} in PEFT format, or {@code model/}), the recipe copy {@code config.yaml}
 * (every key, as written), the base model it names, the dataset files with their hashes and a data
 * check summary, the training metrics of {@code metrics.jsonl} (final value of each, and the best
 * loss, validation loss and validation accuracy with their steps), and an evaluation folder's
 * {@code metrics.json} (metrics and gate verdict) when one is given or found: {@code RUN_DIR/eval},
 * {@code RUN_DIR} itself, or {@code <project>/eval/<run name>} for a run at {@code <project>/runs/<run name>}
 * (the layout `jtune demo` leaves).
 */
public record RunFolder(Path dir, String kind, Path artifact, RecipeConfig recipe, ObjectNode recipeKeys, Path evalDir) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static RunFolder read(Path dir, Path evalDir) throws JtuneException {
        dir = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw new JtuneException("run folder " + dir + " does not exist");
        Path config = dir.resolve("config.yaml");
        if (!Files.isRegularFile(config)) throw new JtuneException(dir + ": no config.yaml: not a jtune run folder (jtune train writes one)");
        String kind;
        Path artifact;
        if (Files.isRegularFile(dir.resolve("adapter/adapter_config.json"))) {
            kind = "adapter";
            artifact = dir.resolve("adapter");
        } else if (Files.isRegularFile(dir.resolve("model/config.json"))) {
            kind = "model";
            artifact = dir.resolve("model");
        } else {
            throw new JtuneException(dir + ": neither adapter/adapter_config.json nor model/config.json: has the run finished?");
        }
        RecipeConfig recipe = RecipeReader.read(config);
        ObjectNode keys;
        try {
            Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(config));
            keys = tree instanceof Map<?, ?> ? JSON.valueToTree(tree) : JSON.createObjectNode();
        } catch (IOException | RuntimeException e) {
            throw new JtuneException(config + ": cannot read: " + e.getMessage(), e);
        }
        Path eval = evalDir != null ? evalDir.toAbsolutePath().normalize() : findEval(dir);
        if (evalDir != null && !Files.isRegularFile(eval.resolve("metrics.json"))) {
            throw new JtuneException("--eval " + evalDir + ": no metrics.json there (jtune eval --out DIR writes one)");
        }
        return new RunFolder(dir, kind, artifact, recipe, keys, eval);
    }

    private static Path findEval(Path dir) {
        List<Path> candidates = new ArrayList<>(List.of(dir.resolve("eval"), dir));
        if (dir.getParent() != null && dir.getParent().getFileName() != null && dir.getParent().getFileName().toString().equals("runs")
                && dir.getParent().getParent() != null) {
            candidates.add(dir.getParent().getParent().resolve("eval").resolve(dir.getFileName()));
        }
        for (Path p : candidates) if (Files.isRegularFile(p.resolve("metrics.json"))) return p;
        return null;
    }

    /** The dataset files of the recipe (training sets, then the validation file), with their roles. */
    public Map<Path, String> datasets() {
        Map<Path, String> out = new LinkedHashMap<>();
        for (DatasetSpec d : recipe.datasets()) out.put(d.path(), "train");
        if (recipe.validationPath() != null) out.put(recipe.validationPath(), "validation");
        return out;
    }

    /** [{"role","path","sha256","bytes","lines"}]; a file that no longer exists is listed with "missing": true. */
    public ArrayNode datasetsJson() throws JtuneException {
        ArrayNode a = JSON.createArrayNode();
        for (var e : datasets().entrySet()) {
            ObjectNode o = a.addObject().put("role", e.getValue()).put("path", e.getKey().toString());
            if (!Files.isRegularFile(e.getKey())) {
                o.put("missing", true);
                continue;
            }
            try {
                long lines;
                try (var s = Files.lines(e.getKey())) {
                    lines = s.filter(l -> !l.isBlank()).count();
                }
                o.put("sha256", Sha256.of(e.getKey())).put("bytes", Files.size(e.getKey())).put("lines", lines);
            } catch (IOException | java.io.UncheckedIOException x) {
                throw new JtuneException("cannot hash dataset " + e.getKey() + ": " + x.getMessage(), x);
            }
        }
        return a;
    }

    /**
     * The data check of the first training file (with the validation file): counts, lengths (with the base model's
     * tokenizer, chat template and the recipe's system message when the base folder is there, as `jtune data check --recipe`
     * counts them), duplicates, labels, overlap; issues capped at 5.
     */
    public JsonNode dataCheck() {
        Path train = recipe.datasets().isEmpty() ? null : recipe.datasets().getFirst().path();
        if (train == null || !Files.isRegularFile(train)) return JSON.createObjectNode().put("skipped", "training file missing");
        try {
            var options = DataCheckOptions.builder(train).sequenceLength(recipe.sequenceLen());
            if (recipe.validationPath() != null && Files.isRegularFile(recipe.validationPath())) options.validation(recipe.validationPath());
            Path base = recipe.baseModel();
            if (base != null && Files.isDirectory(base)) { // lengths as training counts them (jtune data check --recipe)
                try {
                    options.model(new org.jtune.train.data.ModelTokenCounter(base, recipe.chatTemplate(), recipe.systemMessageOverride(),
                            base.getFileName().toString()));
                } catch (JtuneException noTokenizer) {
                    // a base without a tokenizer: the whitespace estimate, as before
                }
            }
            return DataCheckJson.toJson(DataCheck.run(options.build()), 5);
        } catch (JtuneException | RuntimeException e) {
            return JSON.createObjectNode().put("skipped", "data check failed: " + e.getMessage());
        }
    }

    /** {"steps", "final": {key: last value}, "best": {"loss": {"value","step"}, "val_loss": .., "val_accuracy": ..}}. */
    public ObjectNode trainingMetrics() throws JtuneException {
        ObjectNode o = JSON.createObjectNode();
        Path file = dir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(file)) return o.put("missing", "metrics.jsonl");
        List<MetricsRow> rows;
        try {
            rows = MetricsLog.read(file);
        } catch (IOException e) {
            throw new JtuneException("cannot read " + file + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        ObjectNode fin = o.putObject("final");
        ObjectNode best = o.putObject("best");
        long steps = 0;
        for (MetricsRow r : rows) {
            steps = Math.max(steps, r.step());
            for (var e : r.values().entrySet()) {
                if (!Double.isFinite(e.getValue())) continue;
                fin.put(e.getKey(), e.getValue());
                boolean higherBetter = e.getKey().contains("accuracy");
                if (!e.getKey().equals("loss") && !e.getKey().equals("val_loss") && !higherBetter) continue;
                JsonNode b = best.get(e.getKey());
                double v = e.getValue();
                if (b == null || (higherBetter ? v > b.get("value").asDouble() : v < b.get("value").asDouble())) {
                    best.putObject(e.getKey()).put("value", v).put("step", r.step());
                }
            }
        }
        o.put("steps", steps);
        o.put("epoch", rows.isEmpty() ? 0 : rows.getLast().epoch());
        return o;
    }

    /** The evaluation folder's metrics.json (task, n, metrics, the baseline's metrics, gate verdict), or null. */
    public ObjectNode evalJson() throws JtuneException {
        if (evalDir == null) return null;
        Path f = evalDir.resolve("metrics.json");
        try {
            JsonNode m = JSON.readTree(f.toFile());
            ObjectNode o = JSON.createObjectNode().put("dir", evalDir.toString()).put("sha256", Sha256.of(f));
            for (String k : List.of("task", "n", "metrics", "gate")) if (m.has(k)) o.set(k, m.get(k));
            if (m.path("comparison").has("baseline")) o.set("baseline_metrics", m.get("comparison").get("baseline"));
            Path predictions = evalDir.resolve("predictions.jsonl");
            if (Files.isRegularFile(predictions)) o.put("predictions_sha256", Sha256.of(predictions));
            return o;
        } catch (IOException e) {
            throw new JtuneException("cannot read " + f + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
    }
}
