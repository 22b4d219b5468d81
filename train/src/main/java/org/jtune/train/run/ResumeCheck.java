package org.jtune.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.io.IoErrors;
import org.jtune.models.io.ModelFingerprint;
import org.jtune.tensor.Tensor;
import org.jtune.train.checkpoint.Checkpoint;
import org.jtune.autograd.Variable;
import org.jtune.train.recipe.DatasetSpec;
import org.jtune.train.recipe.RecipeConfig;
import org.yaml.snakeyaml.Yaml;

/**
 * What makes a run the run it is — its recipe, the SHA-256 of its data files, the fingerprint of its
 * base model, the names and shapes of its trained tensors — recorded in every checkpoint (run.json,
 * beside the recipe copy), and compared on --resume before anything is restored. A resumed run with
 * another learning rate, seed, dataset or base would no longer be what its folder says; a changed rank
 * once crashed inside the restore. Every difference is named. Files may move (paths are not compared,
 * contents are); the settings that do not change what is computed may change: {@link #MAY_CHANGE}.
 */
final class ResumeCheck {
    static final String FILE = "run.json";
    /** Recipe keys a resumed run may set differently: where it writes, how often it logs, threads, tracking. */
    static final Set<String> MAY_CHANGE = Set.of("output_dir", "logging_steps", "save_total_limit", "threads", "device", "mlflow_tracking_uri",
            "mlflow_experiment_name");
    /** Compared through content hashes instead of paths. */
    private static final Set<String> BY_CONTENT = Set.of("base_model", "datasets", "validation_path");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, String> data;   // "datasets[0] path" -> SHA-256
    private final String baseFingerprint;

    private ResumeCheck(Map<String, String> data, String baseFingerprint) {
        this.data = data;
        this.baseFingerprint = baseFingerprint;
    }

    /** Hashes the recipe's data files (or the examples given in memory) and fingerprints its base model. */
    static ResumeCheck of(RecipeConfig recipe, FineTune.Examples examples) throws JtuneException {
        Map<String, String> data = new LinkedHashMap<>();
        if (examples != null) {
            data.put("examples.train", sha(examples.train()));
            data.put("examples.validation", sha(examples.validation()));
        } else {
            for (int i = 0; i < recipe.datasets().size(); i++) data.put("datasets[" + i + "]", sha(recipe.datasets().get(i).path()));
            if (recipe.validationPath() != null) data.put("validation_path", sha(recipe.validationPath()));
        }
        return new ResumeCheck(data, ModelFingerprint.of(recipe.baseModel()));
    }

    /** SHA-256 of in-memory conversations: every message's role, content and other fields, in order. */
    private static String sha(List<org.jtune.train.data.Conversation> conversations) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (var c : conversations) {
                for (var m : c.messages()) md.update(JSON.writeValueAsBytes(m.toTemplateValue()));
                md.update((byte) '\n');
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** run.json for a checkpoint of a run with these trained tensors. */
    String json(Map<String, Variable> params) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", 1);
        data.forEach(o.putObject("data_sha256")::put);
        o.put("base_model_fingerprint", baseFingerprint);
        ObjectNode shapes = o.putObject("tensors");
        for (var e : params.entrySet()) {
            var arr = shapes.putArray(e.getKey());
            for (int d : e.getValue().value().shape()) arr.add(d);
        }
        return o.toPrettyString() + "\n";
    }

    /**
     * Fails, naming every difference, when {@code c} (from {@code folder}) was written by another run
     * than {@code recipe} with these {@code params}. Checkpoints from before run.json existed are only
     * checked for their recipe and shapes.
     */
    void verify(Checkpoint c, Path folder, RecipeConfig recipe, Map<String, Variable> params) throws JtuneException {
        List<String> diffs = new ArrayList<>();
        String savedRecipe = c.extraFiles().get("recipe.yaml");
        if (savedRecipe != null) diffs.addAll(recipeDiffs(savedRecipe, recipe.toYaml()));
        String run = c.extraFiles().get(FILE);
        if (run != null) {
            JsonNode saved;
            try {
                saved = JSON.readTree(run);
            } catch (IOException e) {
                throw new JtuneException(folder.resolve(FILE) + ": not valid JSON: " + e.getMessage(), e);
            }
            for (var e : data.entrySet()) {
                String then = saved.path("data_sha256").path(e.getKey()).asText(null);
                if (then == null) diffs.add(e.getKey() + ": not in the checkpoint");
                else if (!then.equals(e.getValue())) {
                    diffs.add(e.getKey() + " " + pathOf(recipe, e.getKey()) + " changed since the checkpoint (SHA-256 "
                            + then.substring(0, 12) + "… then, " + e.getValue().substring(0, 12) + "… now)");
                }
            }
            String base = saved.path("base_model_fingerprint").asText(null);
            if (base != null && !base.equals(baseFingerprint)) {
                diffs.add("base_model " + recipe.baseModel() + " is not the model the run started from (fingerprint "
                        + base.substring(0, 12) + "… then, " + baseFingerprint.substring(0, 12) + "… now)");
            }
        }
        for (var e : params.entrySet()) {
            Tensor saved = c.weights().get(e.getKey());
            int[] now = e.getValue().value().shape();
            if (saved == null) diffs.add(e.getKey() + ": trained now, absent from the checkpoint");
            else if (!Arrays.equals(saved.shape(), now)) {
                diffs.add(e.getKey() + ": shape " + Arrays.toString(saved.shape()) + " in the checkpoint, " + Arrays.toString(now) + " now");
            }
        }
        for (String name : c.weights().keySet()) {
            if (!params.containsKey(name)) diffs.add(name + ": in the checkpoint, not trained now");
        }
        if (diffs.isEmpty()) return;
        int shown = Math.min(diffs.size(), 8);
        throw new JtuneException("cannot resume from " + folder + ": it belongs to another run: " + String.join("; ", diffs.subList(0, shown))
                + (diffs.size() > shown ? "; and " + (diffs.size() - shown) + " more" : "")
                + ". Resume with the recipe, data and base model the run started with (its recipe is " + folder.resolve("recipe.yaml")
                + "), or start a new run in another folder");
    }

    /** "key: A in the checkpoint, B now" for every recipe key that differs, except those that may. */
    static List<String> recipeDiffs(String savedYaml, String nowYaml) {
        Map<String, Object> then = load(savedYaml), now = load(nowYaml);
        List<String> out = new ArrayList<>();
        for (String key : new TreeSet<>(union(then.keySet(), now.keySet()))) {
            if (MAY_CHANGE.contains(key)) continue;
            Object a = then.get(key), b = now.get(key);
            if (key.equals("datasets")) {
                a = withoutPaths(a);
                b = withoutPaths(b);
            } else if (BY_CONTENT.contains(key)) {
                if ((a == null) != (b == null)) out.add(key + ": " + (a == null ? "unset" : a) + " in the checkpoint, " + (b == null ? "unset" : b) + " now");
                continue;
            }
            if (!Objects.equals(a, b)) out.add(key + ": " + (a == null ? "unset" : a) + " in the checkpoint, " + (b == null ? "unset" : b) + " now");
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> load(String yaml) {
        Object o = new Yaml().load(yaml);
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    private static Object withoutPaths(Object datasets) {
        if (!(datasets instanceof List<?> l)) return datasets;
        List<Object> out = new ArrayList<>();
        for (Object d : l) {
            if (d instanceof Map<?, ?> m) {
                Map<Object, Object> copy = new LinkedHashMap<>(m);
                copy.remove("path");
                out.add(copy);
            } else {
                out.add(d);
            }
        }
        return out;
    }

    private static String pathOf(RecipeConfig recipe, String key) {
        if (key.startsWith("examples.")) return "(given in memory)";
        if (key.equals("validation_path")) return String.valueOf(recipe.validationPath());
        int i = Integer.parseInt(key.substring("datasets[".length(), key.length() - 1));
        DatasetSpec d = recipe.datasets().get(i);
        return d.path().toString();
    }

    private static String sha(Path file) throws JtuneException {
        try {
            return AtomicFile.sha256(file);
        } catch (IOException e) {
            if (!Files.exists(file)) throw new JtuneException("dataset " + file + ": no such file", e);
            throw new JtuneException(IoErrors.cannot("read", file, e), e);
        }
    }
}
