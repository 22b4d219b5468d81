package org.jtune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.monitor.AlertPost;
import org.jtune.serve.monitor.Check;
import org.jtune.serve.monitor.DriftReference;
import org.jtune.serve.monitor.DriftReport;
import org.jtune.serve.monitor.HiddenStateEmbedder;
import org.jtune.serve.monitor.MonitorThresholds;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.serve.monitor.TokenView;
import org.jtune.serve.monitor.TrafficReport;
import org.jtune.serve.registry.ModelVersion;
import org.jtune.serve.registry.Registry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `jtune monitor check|drift`: production figures and input drift from the server's request log,
 * judged against YAML thresholds. Human text on stderr, --json the report on stdout. Exit 0 no alert,
 * 1 alert (after POSTing the report to --alert-url when given), 2 bad input.
 */
@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Watch production from the request log: latency, errors, refusals, tokens per version (check) and drift of "
                + "inputs and predicted labels against the training data (drift). Exit 1 on an alert.",
        subcommands = {MonitorCommand.CheckCommand.class, MonitorCommand.DriftCommand.class})
final class MonitorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    static final class Common {
        @Option(names = "--log-db", required = true, paramLabel = "URL", description = "The request log: SQLite file or jdbc:postgresql:// URL (jtune serve --log-db).")
        String logDb;
        @Option(names = "--window", defaultValue = "24h", paramLabel = "DURATION",
                description = "How far back from now: 90s, 30m, 24h, 7d, an ISO-8601 duration, or 'all' (default ${DEFAULT-VALUE}).")
        String window;
        @Option(names = "--thresholds", paramLabel = "FILE", description = "YAML thresholds (keys: see the README; defaults otherwise).")
        Path thresholds;
        @Option(names = "--alert-url", paramLabel = "URL", description = "POST the report JSON here when there is an alert.")
        String alertUrl;
        @Option(names = "--json", description = "Print the report as one JSON line on stdout.")
        boolean json;

        RequestLog.Window window() throws JtuneException {
            return window.equalsIgnoreCase("all") ? RequestLog.Window.all() : RequestLog.Window.last(duration(window));
        }
    }

    static Duration duration(String s) throws JtuneException {
        try {
            if (s.startsWith("P") || s.startsWith("p")) return Duration.parse(s);
            long n = Long.parseLong(s.substring(0, s.length() - 1));
            return switch (Character.toLowerCase(s.charAt(s.length() - 1))) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new JtuneException("--window " + s + ": expected e.g. 90s, 30m, 24h, 7d, PT6H or all");
        }
    }

    /** Prints the checks, the JSON, posts an alert; returns the exit code. */
    static int finish(Common c, String what, ObjectNode report, List<Check> checks, PrintWriter out, PrintWriter err) throws JtuneException {
        boolean alert = checks.stream().anyMatch(Check::alert);
        for (Check k : checks) {
            err.printf(Locale.ROOT, "  %-5s %-18s %-22s %12.6g  (alert %s %.6g)%n", k.alert() ? "ALERT" : "ok", k.name(), k.scope(), k.value(),
                    k.alertAbove() ? "above" : "below", k.threshold());
        }
        err.println(what + ": " + (alert ? "ALERT" : checks.isEmpty() ? "nothing judged: too few requests in the window for any check (min_requests, min_drift_samples: 20 and 30 unless --thresholds says otherwise)" : "no alert"));
        if (c.json) out.println(report);
        if (alert && c.alertUrl != null) {
            AlertPost.send(c.alertUrl, report.toString());
            err.println("alert posted to " + c.alertUrl);
        }
        return alert ? 1 : 0;
    }

    static int run(CommandSpec spec, RegistryCommand.Body body) {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return body.run(out, err);
        } catch (JtuneException e) {
            err.println("jtune monitor " + spec.name() + ": " + e.getMessage());
            return 2;
        } finally {
            out.flush();
            err.flush();
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Latency p50/p95/p99, time to first token, error / rejected / refusal rates and tokens, for all traffic and per model version and adapter.")
    static final class CheckCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common c;
        @Option(names = "--buckets", defaultValue = "24", description = "Time-series buckets in the JSON (default ${DEFAULT-VALUE}).")
        int buckets;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                RequestLog.Window w = c.window();
                TrafficReport r = TrafficReport.of(RequestLog.open(c.logDb).requests(w), w, MonitorThresholds.load(c.thresholds), buckets);
                ObjectNode j = r.toJson();
                for (var e : j.get("groups").properties()) {
                    JsonNode g = e.getValue();
                    err.printf(Locale.ROOT, "%-28s %6d requests  p50 %s  p95 %s  p99 %s ms  errors %s  rejected %s  refusals %s%n", e.getKey(),
                            g.get("requests").asInt(), fmt(g.get("latency_p50_ms")), fmt(g.get("latency_p95_ms")), fmt(g.get("latency_p99_ms")),
                            fmt(g.get("error_rate")), fmt(g.get("rejected_rate")), fmt(g.get("refusal_rate")));
                }
                return finish(c, "traffic", j, r.checks(), out, err);
            });
        }

        static String fmt(JsonNode n) {
            return n == null || n.isNull() ? "-" : String.format(Locale.ROOT, "%.4g", n.asDouble());
        }
    }

    @Command(name = "drift", mixinStandardHelpOptions = true,
            description = "Drift of production prompts against the training data: length (PSI, KS), unseen-token and out-of-vocabulary rates, "
                    + "the model's mean-pooled hidden states (MMD with a permutation p-value, centroid shift) and, with validation labels, "
                    + "the predicted-label distribution (chi-square, PSI).")
    static final class DriftCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Common c;
        @Option(names = "--reference", paramLabel = "FILE", description = "Training data (JSONL); repeatable.")
        List<Path> reference = new ArrayList<>();
        @Option(names = "--validation", paramLabel = "FILE", description = "Validation data whose answers are the labels (classification).")
        Path validation;
        @Option(names = "--model", paramLabel = "DIR", description = "Model for tokens and hidden states (without it: whitespace words, no hidden states).")
        Path model;
        @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter applied to --model for the hidden states.")
        Path adapter;
        @Option(names = "--registry", paramLabel = "DB", description = "Take reference, validation, model and adapter from the production version of --name.")
        String registry;
        @Option(names = "--artifacts", paramLabel = "DIR", description = "Artifact store of a PostgreSQL registry.")
        Path artifacts;
        @Option(names = "--name", paramLabel = "NAME", description = "Model name in --registry.")
        String name;
        @Option(names = "--no-hidden-states", description = "Skip the hidden-state checks (no model forward passes).")
        boolean noHidden;
        @Option(names = "--max-samples", defaultValue = "200", description = "Prompts per side for the hidden-state checks (default ${DEFAULT-VALUE}).")
        int maxSamples;
        @Option(names = "--permutations", defaultValue = "200", description = "Permutations of the MMD test (default ${DEFAULT-VALUE}).")
        int permutations;
        @Option(names = "--seed", defaultValue = "1", description = "Seed of sampling and permutations (default ${DEFAULT-VALUE}).")
        long seed;
        @Option(names = "--out", paramLabel = "FILE", description = "Also write the report JSON here (the dashboard shows it with --drift-report).")
        Path outFile;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                if (registry != null) fromRegistry(err);
                if (reference.isEmpty()) throw new JtuneException("give --reference TRAIN.jsonl (or --registry DB --name NAME)");
                DriftReference ref = DriftReference.read(reference, validation);
                RequestLog.Window w = c.window();
                var requests = RequestLog.open(c.logDb).requests(w);
                TokenView tokens = model == null ? TokenView.words() : TokenView.of(Tokenizer.load(model), model.getFileName().toString());
                DriftReport r;
                if (model != null && !noHidden) {
                    try (HiddenStateEmbedder e = HiddenStateEmbedder.load(model, adapter)) {
                        r = DriftReport.compute(ref, requests, tokens, e, MonitorThresholds.load(c.thresholds),
                                new DriftReport.Options(maxSamples, permutations, seed));
                    } catch (JtuneException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new JtuneException(model + ": " + e.getMessage(), e);
                    }
                } else {
                    r = DriftReport.compute(ref, requests, tokens, null, MonitorThresholds.load(c.thresholds), new DriftReport.Options(maxSamples, permutations, seed));
                }
                r.json().put("from", org.jtune.serve.registry.Clock.format(w.from())).put("until", org.jtune.serve.registry.Clock.format(w.until()));
                err.println("drift of " + r.json().get("traffic_prompts").asInt() + " prompts against " + ref.prompts().size() + " reference prompts ("
                        + tokens.name() + ")");
                if (outFile != null) org.jtune.io.AtomicFile.writeString(outFile, r.json().toPrettyString() + "\n");
                return finish(c, "drift", r.json(), r.checks(), out, err);
            });
        }

        private void fromRegistry(PrintWriter err) throws JtuneException {
            if (name == null) throw new JtuneException("--registry needs --name");
            Registry reg = Registry.open(registry, artifacts);
            ModelVersion v = reg.production(name).orElseThrow(() -> new JtuneException("'" + name + "' has no production version in " + registry));
            boolean given = !reference.isEmpty();
            for (JsonNode d : v.lineage().path("datasets")) {
                Path p = Path.of(d.get("path").asText());
                if (d.path("missing").asBoolean()) continue;
                if (d.get("role").asText().equals("validation")) {
                    if (validation == null) validation = p;
                } else if (!given) {
                    reference.add(p);
                }
            }
            if (model == null) {
                if (v.kind().equals("adapter")) {
                    model = Path.of(v.baseModel());
                    adapter = reg.artifactFolder(v);
                } else {
                    model = reg.artifactFolder(v);
                }
            }
            err.println("reference from " + v.label() + ": " + reference + (validation != null ? ", labels of " + validation : ""));
        }
    }
}
