package org.jtune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.PredictionFile;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Gate;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.eval.compare.RuleOutcome;
import org.jtune.serve.registry.AuditEntry;
import org.jtune.serve.registry.ModelVersion;
import org.jtune.serve.registry.Predictor;
import org.jtune.serve.registry.Promotion;
import org.jtune.serve.registry.Registry;
import org.jtune.serve.registry.RunFolder;
import org.jtune.serve.registry.Stage;
import org.jtune.serve.registry.VersionDiff;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * `jtune registry`: versions of fine-tuned models with their lineage, stages and a gated promotion
 * (see org.jtune.serve.registry). Human text on stderr, --json one object per line on stdout.
 * Exit codes: 0 done, 1 promotion refused by its gate, 2 bad input, 3 the registry changed meanwhile
 * (another promote or rollback won; nothing was written: run it again).
 */
@Command(name = "registry", mixinStandardHelpOptions = true,
        description = "Model registry: register run folders as versions with lineage, list/show/diff them, promote through "
                + "candidate → staging → production → archived with an evaluation gate, roll production back, read the audit log.",
        subcommands = {RegistryCommand.Register.class, RegistryCommand.ListVersions.class, RegistryCommand.Show.class,
                RegistryCommand.Diff.class, RegistryCommand.Promote.class, RegistryCommand.Rollback.class, RegistryCommand.Audit.class})
final class RegistryCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /** Where the registry is, shared by every sub-command. */
    static final class Where {
        @Option(names = "--registry", paramLabel = "DB", defaultValue = "${env:JTUNE_REGISTRY:-registry/registry.db}",
                description = "SQLite file (artifacts go in the folder 'artifacts' beside it) or jdbc:postgresql:// URL "
                        + "(default: $JTUNE_REGISTRY, else ${DEFAULT-VALUE}).")
        String registry;

        @Option(names = "--artifacts", paramLabel = "DIR", description = "Artifact store folder (required with a PostgreSQL URL).")
        Path artifacts;

        @Option(names = "--json", description = "Print JSON (one object per line) on stdout.")
        boolean json;

        Registry open() throws JtuneException {
            return Registry.open(registry, artifacts);
        }
    }

    /** Runs a sub-command body, turning errors into one line on stderr and an exit code. */
    interface Body {
        int run(PrintWriter out, PrintWriter err) throws JtuneException;
    }

    static int run(CommandSpec spec, Body body) {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            return body.run(out, err);
        } catch (Registry.ConcurrentChangeException e) {
            err.println("jtune registry " + spec.name() + ": " + e.getMessage());
            return 3;
        } catch (JtuneException e) {
            err.println("jtune registry " + spec.name() + ": " + e.getMessage());
            return 2;
        } finally {
            out.flush();
            err.flush();
        }
    }

    static ObjectNode summary(ModelVersion v) {
        ObjectNode o = JSON.createObjectNode();
        o.put("name", v.name()).put("version", v.version()).put("stage", v.stage().id()).put("kind", v.kind())
                .put("artifact_sha256", v.artifactSha256()).put("base_model", v.baseModel()).put("base_sha256", v.baseSha256());
        if (v.parentVersion() == null) o.putNull("parent_version");
        else o.put("parent_version", v.parentVersion());
        o.put("run_dir", v.runDir()).put("created_at", v.createdAt()).put("created_by", v.createdBy());
        JsonNode metrics = v.lineage().path("eval").path("metrics");
        if (metrics.isObject()) o.set("eval_metrics", metrics);
        JsonNode fin = v.lineage().path("training").path("final");
        if (fin.has("loss")) o.put("final_loss", fin.get("loss").asDouble());
        return o;
    }

    static String line(ModelVersion v) {
        JsonNode m = v.lineage().path("eval").path("metrics");
        String metrics = m.has("accuracy") ? String.format(Locale.ROOT, "accuracy %.3f", m.get("accuracy").asDouble())
                : m.isObject() && m.size() > 0 ? m.fieldNames().next() + " " + m.elements().next().asText() : "no eval";
        return String.format(Locale.ROOT, "%-24s %-10s %-7s %s  parent %s  %s by %s  %s", v.label(), v.stage().id(), v.kind(),
                v.artifactSha256().substring(0, 12), v.parentVersion() == null ? "-" : v.parentVersion(), v.createdAt(), v.createdBy(), metrics);
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Record a finished training run as a new candidate version: the adapter or model (copied or hard-linked into the "
                    + "artifact store), base model and file hashes, datasets with hashes and a data check, the recipe, training and eval metrics.")
    static final class Register implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", paramLabel = "RUN_DIR", description = "The run folder jtune train wrote.")
        Path runDir;
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Model name (letters, digits, . _ -).")
        String name;
        @Option(names = "--eval", paramLabel = "DIR", description = "jtune eval --out folder of this run (default: found beside the run).")
        Path eval;
        @Option(names = "--parent", paramLabel = "VERSION", description = "Parent version (default: the version whose files are the base model, else production).")
        Integer parent;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Registry reg = where.open();
                ModelVersion v = reg.register(RunFolder.read(runDir, eval), new Registry.Registration(name, parent, Registry.currentUser()));
                err.println("registered " + v.label() + " (" + v.kind() + ", artifact " + v.artifactSha256().substring(0, 12) + ", stage candidate)");
                if (where.json) out.println(summary(v));
                return 0;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List versions (of one name, or all).")
    static final class ListVersions implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "A registered model's name (default: all of them).")
        String name;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Registry reg = where.open();
                for (String n : name != null ? List.of(name) : reg.names()) {
                    for (ModelVersion v : reg.versions(n)) {
                        if (where.json) out.println(summary(v));
                        else err.println(line(v));
                    }
                }
                return 0;
            });
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one version with its whole lineage (default: the production version).")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", paramLabel = "NAME", description = "The registered model's name.")
        String name;
        @Parameters(index = "1", arity = "0..1", paramLabel = "VERSION", description = "A version number (default: the production version).")
        Integer version;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Registry reg = where.open();
                ModelVersion v = version != null ? reg.version(name, version)
                        : reg.production(name).orElseThrow(() -> new JtuneException("'" + name + "' has no production version: give VERSION"));
                ObjectNode o = summary(v);
                o.set("lineage", v.lineage());
                if (where.json) out.println(o);
                else err.println(o.toPrettyString());
                return 0;
            });
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true, description = "What differs between two versions: recipe keys, data and artifact hashes, metrics.")
    static final class Diff implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", paramLabel = "NAME", description = "The registered model's name.")
        String name;
        @Parameters(index = "1", paramLabel = "VERSION_A", description = "The version compared from.")
        int a;
        @Parameters(index = "2", paramLabel = "VERSION_B", description = "The version compared to.")
        int b;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Registry reg = where.open();
                List<VersionDiff.Change> changes = VersionDiff.of(reg.version(name, a), reg.version(name, b));
                if (where.json) {
                    ObjectNode o = JSON.createObjectNode().put("name", name).put("a", a).put("b", b);
                    var arr = o.putArray("changes");
                    for (var c : changes) arr.addObject().put("key", c.key()).set("a", c.a());
                    for (int i = 0; i < changes.size(); i++) ((ObjectNode) arr.get(i)).set("b", changes.get(i).b());
                    out.println(o);
                } else {
                    err.printf("%s:%d → %s:%d, %d differences%n", name, a, name, b, changes.size());
                    for (var c : changes) err.printf("  %-44s %s → %s%n", c.key(), c.a(), c.b());
                }
                return 0;
            });
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Move a version to a stage. Into production it must pass the gate: the candidate and the current production "
                    + "version (or, with none, the base model) answer the test set and the eval code compares them; a failing gate "
                    + "changes nothing (exit 1) unless --force --reason TEXT, which is recorded.")
    static final class Promote implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", paramLabel = "NAME", description = "The registered model's name.")
        String name;
        @Parameters(index = "1", paramLabel = "VERSION", description = "The version to promote (jtune registry list NAME shows them).")
        int version;
        @Option(names = "--chat-template", paramLabel = "NAME|FILE",
                description = "Chat template for every evaluation of the gate (default: each version's own, else its base model's; the base "
                        + "model, as a baseline, is asked with the candidate's).")
        String chatTemplate;
        @Option(names = "--to", defaultValue = "production", paramLabel = "STAGE", description = "staging, production or archived (default ${DEFAULT-VALUE}).")
        String to;
        @Option(names = "--gate", paramLabel = "GATE.yaml", description = "Gate rules, as jtune eval --gate reads them (e.g. '- accuracy.delta >= 0').")
        Path gate;
        @Option(names = "--data", paramLabel = "TEST.jsonl", description = "Test set (chat JSONL; the last assistant message is the reference).")
        Path data;
        @Option(names = "--task", paramLabel = "TASK", description = "classification, generation or extraction (default: classification with --labels, else inferred).")
        String task;
        @Option(names = "--labels", paramLabel = "FILE", description = "Label set for classification, one per line.")
        Path labels;
        @Option(names = "--max-new-tokens", defaultValue = "64", description = "Longest answer (default ${DEFAULT-VALUE}).")
        int maxNewTokens;
        @Option(names = "--batch-size", defaultValue = "32", description = "Prompts generated together (default ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--resamples", defaultValue = "1000", description = "Paired bootstrap resamples (default ${DEFAULT-VALUE}).")
        int resamples;
        @Option(names = "--seed", defaultValue = "12345", description = "Bootstrap seed (default ${DEFAULT-VALUE}).")
        long seed;
        @ArgGroup(exclusive = false)
        Force force;

        static final class Force {
            @Option(names = "--force", required = true, description = "Promote even when the gate fails (needs --reason).")
            boolean force;
            @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why; recorded in the audit log.")
            String reason;
        }

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Stage stage = Stage.parse(to);
                if (stage == Stage.CANDIDATE) throw new JtuneException("--to candidate: a version is a candidate only when registered");
                if ((gate == null) != (data == null)) throw new JtuneException("--gate and --data go together");
                Registry reg = where.open();
                EvalSettings settings = new EvalSettings(labels == null ? List.of() : PredictionFile.readLabels(labels), false, List.of());
                Task t = task != null ? Task.parse(task) : labels != null ? Task.CLASSIFICATION : null;
                Promotion p = new Promotion(gate == null ? null : Gate.load(gate), data, settings, t, Predictor.greedy(maxNewTokens, batchSize, chatTemplate),
                        resamples, seed);
                boolean forced = force != null && force.force;
                Promotion.Outcome o = p.run(reg, name, version, stage, forced, force == null ? null : force.reason, Registry.currentUser());
                if (o.comparison() != null) {
                    err.printf("%s:%d against %s on %s (%d examples)%n", name, version, o.baseline(), data, o.comparison().candidate().size());
                    for (MetricDelta d : o.comparison().deltas()) {
                        err.printf(Locale.ROOT, "  %-22s %9.4f  baseline %9.4f  delta %+.4f [%+.4f, %+.4f]%n", d.metric(), d.candidate(), d.baseline(),
                                d.delta(), d.ciLow(), d.ciHigh());
                    }
                    err.println("gate " + (o.verdict().passed() ? "PASSED" : "FAILED"));
                    for (RuleOutcome r : o.verdict().outcomes()) err.printf("  [%s] %s  (%s)%n", r.status(), r.rule(), r.message());
                }
                err.println(o.promoted() ? "promoted " + name + ":" + version + " to " + stage.id() + (o.forced() ? " (FORCED: " + force.reason + ")" : "")
                        : "refused: " + name + ":" + version + " stays " + o.version().stage().id() + "; nothing changed");
                if (where.json) {
                    ObjectNode j = JSON.createObjectNode().put("name", name).put("version", version).put("to", stage.id())
                            .put("promoted", o.promoted()).put("forced", o.forced()).put("baseline", o.baseline());
                    if (o.comparison() != null) {
                        j.set("evaluation", org.jtune.eval.report.MetricsJson.of(o.comparison().candidate(), o.comparison(), o.verdict()).without("report"));
                    }
                    out.println(j);
                }
                return o.promoted() ? 0 : 1;
            });
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Put the previous production version back in production (the current one is archived).")
    static final class Rollback implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", paramLabel = "NAME", description = "The registered model's name.")
        String name;
        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; recorded in the audit log.")
        String reason;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                Registry reg = where.open();
                Integer was = reg.production(name).map(ModelVersion::version).orElse(null);
                ModelVersion v = reg.rollback(name, Registry.currentUser(), reason);
                err.println("rolled back " + name + ": production " + was + " → " + v.version());
                if (where.json) out.println(JSON.createObjectNode().put("name", name).put("from_version", was).put("to_version", v.version()));
                return 0;
            });
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "The audit log: every change, who, when, why.")
    static final class Audit implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        Where where;
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "A registered model's name (default: all of them).")
        String name;

        @Override
        public Integer call() {
            return run(spec, (out, err) -> {
                for (AuditEntry a : where.open().audit(name)) {
                    if (where.json) {
                        ObjectNode o = JSON.valueToTree(a);
                        out.println(o);
                    } else {
                        err.printf("%s %-8s %-10s %s:%s %s → %s%s%n", a.at(), a.who(), a.action(), a.name(), a.version(),
                                a.fromStage(), a.toStage(), a.reason() == null ? "" : "  (" + a.reason() + ")");
                    }
                }
                return 0;
            });
        }
    }
}
