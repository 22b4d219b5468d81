package org.jtune.serve.monitor;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Alert thresholds, a flat YAML mapping; every key optional, each default with its reason below. A
 * rate or statistic above its threshold alerts; a p-value below its threshold alerts. Unknown keys
 * are errors naming file:line.
 */
public record MonitorThresholds(
        int minRequests,          // fewer requests than this in the window: rates are too noisy to alert on
        double latencyP95Ms,      // interactive use: 95% of answers within 5 s
        double latencyP99Ms,
        double errorRate,         // server-side failures (5xx, generation errors)
        double rejectedRate,      // 4xx: bad requests, unknown model, queue full
        double refusalRate,       // answers that refuse (see refusalPatterns)
        List<String> refusalPatterns,
        int minDriftSamples,      // fewer prompts than this: no drift verdict
        double lengthPsi,         // Siddiqi: > 0.25 is a large shift
        double lengthKsP,         // small: with hundreds of prompts any real shift gets far below it
        double unseenTokenRate,   // share of prompt tokens never seen in the training prompts
        double oovRate,           // share of tokens the tokenizer could only spell as bytes or <unk>
        double embeddingMmdP,     // permutation p-value of the MMD of mean-pooled hidden states
        double centroidShift,     // centroid moved by this many reference deviations
        double labelChi2P,        // predicted labels vs validation labels, chi-square p-value
        double labelPsi) {

    public static final MonitorThresholds DEFAULTS = new MonitorThresholds(20, 5000, 10000, 0.02, 0.10, 0.10,
            List.of("i can't help", "i cannot help", "i'm sorry, but", "i am unable to", "as an ai"),
            30, 0.25, 0.001, 0.10, 0.02, 0.01, 0.5, 0.001, 0.25);

    public static MonitorThresholds load(Path file) throws JtuneException {
        if (file == null) return DEFAULTS;
        Node root;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new LoaderOptions()).compose(in);
        } catch (YAMLException e) {
            throw new JtuneException(file + ": not valid YAML: " + e.getMessage().replace('\n', ' '), e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read thresholds: " + e.getMessage(), e);
        }
        Map<String, Object> v = new LinkedHashMap<>(defaults());
        if (root == null) return DEFAULTS;
        if (!(root instanceof MappingNode map)) throw new JtuneException(file + ": thresholds are a mapping of key: value");
        for (NodeTuple t : map.getValue()) {
            String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "";
            String where = file + ":" + (t.getKeyNode().getStartMark().getLine() + 1);
            if (!v.containsKey(key)) throw new JtuneException(where + ": unknown key '" + key + "'; known: " + String.join(", ", v.keySet()));
            Node value = t.getValueNode();
            if (key.equals("refusal_patterns")) {
                if (!(value instanceof SequenceNode seq)) throw new JtuneException(where + ": refusal_patterns is a list of phrases");
                List<String> p = new ArrayList<>();
                for (Node n : seq.getValue()) p.add(((ScalarNode) n).getValue().toLowerCase(java.util.Locale.ROOT));
                v.put(key, p);
            } else {
                if (!(value instanceof ScalarNode s)) throw new JtuneException(where + ": " + key + " needs a number");
                try {
                    double d = Double.parseDouble(s.getValue());
                    if (!(d >= 0)) throw new NumberFormatException();
                    v.put(key, d);
                } catch (NumberFormatException e) {
                    throw new JtuneException(where + ": " + key + " needs a number >= 0, got '" + s.getValue() + "'");
                }
            }
        }
        return new MonitorThresholds(num(v, "min_requests").intValue(), num(v, "latency_p95_ms"), num(v, "latency_p99_ms"),
                num(v, "error_rate"), num(v, "rejected_rate"), num(v, "refusal_rate"), list(v), num(v, "min_drift_samples").intValue(),
                num(v, "length_psi"), num(v, "length_ks_p"), num(v, "unseen_token_rate"), num(v, "oov_rate"), num(v, "embedding_mmd_p"),
                num(v, "centroid_shift"), num(v, "label_chi2_p"), num(v, "label_psi"));
    }

    private static Map<String, Object> defaults() {
        MonitorThresholds d = DEFAULTS;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("min_requests", (double) d.minRequests);
        m.put("latency_p95_ms", d.latencyP95Ms);
        m.put("latency_p99_ms", d.latencyP99Ms);
        m.put("error_rate", d.errorRate);
        m.put("rejected_rate", d.rejectedRate);
        m.put("refusal_rate", d.refusalRate);
        m.put("refusal_patterns", d.refusalPatterns);
        m.put("min_drift_samples", (double) d.minDriftSamples);
        m.put("length_psi", d.lengthPsi);
        m.put("length_ks_p", d.lengthKsP);
        m.put("unseen_token_rate", d.unseenTokenRate);
        m.put("oov_rate", d.oovRate);
        m.put("embedding_mmd_p", d.embeddingMmdP);
        m.put("centroid_shift", d.centroidShift);
        m.put("label_chi2_p", d.labelChi2P);
        m.put("label_psi", d.labelPsi);
        return m;
    }

    private static Double num(Map<String, Object> v, String k) {
        return (Double) v.get(k);
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Map<String, Object> v) {
        return (List<String>) v.get("refusal_patterns");
    }
}
