package org.jtune.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.nio.file.Files;
import org.jtune.JtuneException;
import org.jtune.io.FolderLock;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
import org.jtune.eval.run.PredictionsJsonl;
import org.jtune.eval.EvalResult;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.PredictionFile;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.Gate;
import org.jtune.eval.compare.GateResult;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.eval.compare.RuleOutcome;
import org.jtune.eval.generation.BertScorer;
import org.jtune.eval.report.MetricsJson;
import org.jtune.eval.report.ReportWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `jtune eval`: evaluates a model on a chat test set (see {@link ModelRun}) or scores predictions made
 * elsewhere, optionally against a baseline and a gate. Human text goes to stderr; --json prints the
 * metrics object as one line on stdout; --out writes predictions.jsonl (model runs), metrics.json and
 * eval_report.html. Exit codes: 0 done (gate passed), 1 gate failed, 2 bad input.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, subcommands = HumanEvalCommand.class,
        description = "Evaluate a model (--model [--adapter] --data test.jsonl: batched greedy generation through the chat "
                + "template) or score predictions made elsewhere (--predictions: JSONL lines with \"reference\" and "
                + "\"prediction\", optional \"id\", \"input\", \"label_set\") for classification, generation or "
                + "extraction; compare with a baseline (bootstrap intervals, McNemar), apply a gate (exit 1 when it fails), "
                + "or run a general-capabilities regression suite (--suite general).")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--predictions", paramLabel = "FILE", description = "Predictions JSONL to score.")
    Path predictions;

    @Option(names = "--task", paramLabel = "TASK",
            description = "classification, generation or extraction (default: inferred — labels given: "
                    + "classification; every reference a JSON object: extraction; else generation).")
    String task;

    @Option(names = "--baseline", paramLabel = "FILE|DIR",
            description = "Baseline on the same examples (matched by id): a predictions JSONL, an earlier --out folder, or a model folder "
                    + "(evaluated like --model, in the candidate's prompt format).")
    Path baseline;

    @Option(names = "--gate", paramLabel = "FILE", description = "YAML list of rules, e.g. '- accuracy >= 0.85'.")
    Path gate;

    @Option(names = "--out", paramLabel = "DIR", description = "Write metrics.json and eval_report.html here (and predictions.jsonl "
            + "for model runs); the folder is written whole and switched in at the end, and may not be an input.")
    Path out;

    @Option(names = "--json", description = "Print the metrics object as one JSON line on stdout.")
    boolean json;

    @Option(names = "--labels", paramLabel = "FILE", description = "Label set for classification, one label per line.")
    Path labels;

    @Option(names = "--rouge-stemmer", description = "Porter-stem tokens for ROUGE (rouge-score's use_stemmer=True).")
    boolean rougeStemmer;

    @Option(names = "--bertscore-model", paramLabel = "DIR|FILE.gguf",
            description = "Add BERTScore (precision, recall, F1) to generation scores, with this model's token embeddings as the scorer: "
                    + "keep it fixed across the runs you compare (the base model, say), not the model under test.")
    Path bertScoreModel;

    @Option(names = "--bertscore-layer", paramLabel = "N",
            description = "The scorer's layer whose hidden states embed the tokens (default: two thirds of its layers, rounded).")
    Integer bertScoreLayer;

    @Option(names = "--bertscore-idf", description = "Weight BERTScore's token matches by idf over the references (bert_score's idf=True).")
    boolean bertScoreIdf;

    @Option(names = "--resamples", defaultValue = "1000", description = "Paired bootstrap resamples (default ${DEFAULT-VALUE}).")
    int resamples;

    @Option(names = "--seed", defaultValue = "12345", description = "Seed of the bootstrap and of --limit's sample (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model", paramLabel = "DIR|FILE.gguf", description = "Evaluate this model (Hugging Face folder, jtune quantize folder or GGUF file) on --data.")
    Path model;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the projection matrices of the model(s) on load: q8_0, q4_0, q4_k, or nf4 (the NF4 base a QLoRA adapter was trained on).")
    String quantize;

    @Mixin
    MlockOption mlock;

    @Mixin
    KvTypeOption kvType;

    @Mixin
    JsonSchemaOption jsonSchema;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter applied to --model.")
    Path adapter;

    @Option(names = "--data", paramLabel = "FILE", description = "Test set, chat JSONL: the last assistant message of each line is the reference.")
    Path data;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = "Chat template (default: the adapter's, i.e. the one it was "
            + "trained with, else the model's own; chatml, llama2, llama3, mistral, or a Jinja file).")
    String chatTemplate;

    @Option(names = "--system-message", paramLabel = "TEXT", description = "Replace the examples' system message (\"\" removes it; "
            + "default: the one the adapter or model was trained with, if any, else the examples' own).")
    String systemMessage;

    @Option(names = "--device", paramLabel = "cpu|opencl[:N]|cuda[:N]", defaultValue = "cpu",
            description = "Where the model's weights are kept and its predictions generated (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--batch-size", defaultValue = "32", description = "Prompts generated together (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Longest answer (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Mixin
    PromptLookupOption promptLookup;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate a sample of N examples drawn with --seed (stratified by "
            + "label with --task classification or --labels), in file order.")
    Integer limit;

    @Option(names = "--suite", paramLabel = "general|FILE",
            description = "Run a general-capabilities regression suite on --model (and on a --baseline model) instead of --data: "
                    + "'general' is built in (instruction following, arithmetic, reasoning, formatting, safety); or your own JSONL.")
    String suite;

    @Option(names = "--allow-base-mismatch", description = "Load --adapter even when it was trained on another base model than --model.")
    boolean allowBaseMismatch;

    @Override
    public Integer call() {
        try {
            validate();
        } catch (JtuneException e) {
            System.err.println("jtune eval: " + e.getMessage());
            return 2;
        }
        if (suite != null) {
            if (model == null) {
                System.err.println("jtune eval: --suite needs --model");
                return 2;
            }
            try {
                return ModelRun.suite(this);
            } catch (JtuneException e) {
                System.err.println("jtune eval: " + e.getMessage());
                return 2;
            }
        }
        if (predictions == null && (model == null || data == null)) {
            System.err.println("jtune eval: give --predictions FILE.jsonl, or --model DIR --data FILE.jsonl (see jtune eval --help)");
            return 2;
        }
        try {
            return run();
        } catch (JtuneException e) {
            System.err.println("jtune eval: " + e.getMessage());
            return 2;
        }
    }

    /**
     * Everything that can be checked before a model generates anything: flag values, the outputs
     * against the inputs, that the baseline and the gate exist. A bad gate or a missing baseline
     * found only after minutes of generation wastes the run.
     */
    private void validate() throws JtuneException {
        mlock.apply();
        kvType.type(null);
        if (jsonSchema.schema() != null && (model == null || suite != null)) {
            throw new JtuneException("--json-schema and --json-object constrain the answers of --model --data runs, not --predictions or --suite");
        }
        promptLookup.check();
        if (batchSize < 1) throw new JtuneException("--batch-size must be at least 1, got " + batchSize);
        if (limit != null && limit < 1) throw new JtuneException("--limit must be at least 1, got " + limit);
        if (maxNewTokens < 1) throw new JtuneException("--max-new-tokens must be at least 1, got " + maxNewTokens + " (with no answer every example would be scored wrong)");
        if (resamples < 0) throw new JtuneException("--resamples must be 0 or more, got " + resamples);
        if (data != null && !Files.isRegularFile(data)) throw new JtuneException("test set " + data + " does not exist");
        if (quantize != null) {
            quantize = quantize.toLowerCase(java.util.Locale.ROOT);
            org.jtune.models.weights.QuantizeOnLoad.codec(quantize);
        }
        model = org.jtune.models.gguf.GgufModels.asFolder("--model", model);
        if (model != null) {
            if (!Files.isDirectory(model)) throw new JtuneException("--model " + model + ": no such model folder");
            ModelOptions.checkAgainstContext(maxNewTokens, org.jtune.models.arch.Architectures.readConfig(model).maxPositionEmbeddings());
        }
        if (adapter != null && !Files.isDirectory(adapter)) throw new JtuneException("--adapter " + adapter + ": no such adapter folder");
        bertScoreModel = org.jtune.models.gguf.GgufModels.asFolder("--bertscore-model", bertScoreModel);
        if (bertScoreModel != null && !Files.isDirectory(bertScoreModel)) throw new JtuneException("--bertscore-model " + bertScoreModel + ": no such model folder");
        if (bertScoreModel == null && (bertScoreLayer != null || bertScoreIdf)) throw new JtuneException("--bertscore-layer and --bertscore-idf need --bertscore-model");
        if (bertScoreModel != null) { // before minutes of generation
            int layers = org.jtune.models.arch.Architectures.readConfig(bertScoreModel).numHiddenLayers();
            if (bertScoreLayer != null && (bertScoreLayer < 1 || bertScoreLayer > layers)) {
                throw new JtuneException("--bertscore-layer " + bertScoreLayer + " is outside 1.." + layers + ", the layers of " + bertScoreModel);
            }
            if (task != null && Task.parse(task) != Task.GENERATION) throw new JtuneException("--bertscore-model scores generation answers, not " + task);
            if (suite != null) throw new JtuneException("--bertscore-model scores --data or --predictions runs, not --suite");
        }
        ModelOptions.noteQloraBase("jtune eval", adapter, quantize);
        if (predictions != null && !Files.isRegularFile(predictions)) throw new JtuneException("--predictions " + predictions + ": no such file");
        if (gate != null && !Files.isRegularFile(gate)) throw new JtuneException("--gate " + gate + ": no such file");
        if (labels != null && !Files.isRegularFile(labels)) throw new JtuneException("--labels " + labels + ": no such file");
        if (baseline != null && !Files.exists(baseline)) throw new JtuneException("--baseline " + baseline + ": no such file or folder");
        if (baseline != null && Files.isDirectory(baseline) && !Files.exists(baseline.resolve("config.json"))
                && !Files.isRegularFile(baseline.resolve(PredictionsJsonl.FILE))) {
            throw new JtuneException("--baseline " + baseline + " is neither a model folder (config.json) nor an eval folder ("
                    + PredictionsJsonl.FILE + ")");
        }
        if (out != null) {
            OverwriteGuard.refuse("--out", out, "--baseline", baseline);
            OverwriteGuard.refuse("--out", out, "--model", model);
            OverwriteGuard.refuse("--out", out, "--adapter", adapter);
            OverwriteGuard.refuse("--out", out, "--data", data);
            OverwriteGuard.refuse("--out", out, "--predictions", predictions);
            OverwriteGuard.refuse("--out", out, "--gate", gate);
            OverwriteGuard.refuse("--out", out, "--labels", labels);
            if (suite == null) StagedFolder.refuseForeign(out, "eval results", ReportWriter.METRICS, ReportWriter.REPORT, PredictionsJsonl.FILE);
        }
    }

    private int run() throws JtuneException {
        Gate g = gate == null ? null : Gate.load(gate);
        List<String> labelSet = labels == null ? List.of() : PredictionFile.readLabels(labels);
        boolean baselineIsModel = baseline != null && Files.isDirectory(baseline) && Files.exists(baseline.resolve("config.json"));
        if (baselineIsModel && data == null) throw new JtuneException("--baseline " + baseline + " is a model folder: give --data as well");
        List<Prediction> base = baseline != null && !baselineIsModel ? ModelRun.baseline(this, baseline) : null;
        try (FolderLock lock = out == null ? null : FolderLock.acquire(out, "writing eval results")) {
            List<Prediction> cand = model != null ? ModelRun.predictions(this, model, adapter, adapter, "candidate") : PredictionFile.read(predictions);
            if (baselineIsModel) base = ModelRun.baseline(this, baseline);
            Task t = task != null ? Task.parse(task) : new EvalSettings(labelSet, rougeStemmer, List.of()).inferTask(cand);
            if (bertScoreModel != null && t != Task.GENERATION) throw new JtuneException("--bertscore-model scores generation answers, and this is " + t.id());
            try (BertScorer scorer = bertScoreModel == null ? null : BertScorer.load(bertScoreModel, bertScoreLayer, bertScoreIdf)) {
                return score(new EvalSettings(labelSet, rougeStemmer, List.of(), scorer), t, g, base, cand);
            }
        }
    }

    /** Scores the candidate (against the baseline), applies the gate, prints and writes the results; the exit code. */
    private int score(EvalSettings settings, Task t, Gate g, List<Prediction> base, List<Prediction> cand) throws JtuneException {
        Evaluator evaluator = settings.evaluatorFor(t);
        Comparison cmp = null;
        EvalResult result;
        if (base != null) {
            cmp = Comparison.run(evaluator, base, cand, resamples, seed);
            result = cmp.candidate();
        } else {
            result = evaluator.evaluate(cand);
        }
        GateResult verdict = g == null ? null : g.evaluate(result, cmp);
        printSummary(result, cmp, verdict);
        if (out != null) {
            try (StagedFolder staged = StagedFolder.begin(out)) { // the folder is switched in whole: never new metrics beside old predictions
                if (model != null) PredictionsJsonl.write(staged.path().resolve(PredictionsJsonl.FILE), cand, result);
                ReportWriter.write(staged.path(), "jtune eval — " + (model != null ? model.getFileName() + " on " + data.getFileName()
                        : predictions.getFileName()), result, cmp, verdict);
                staged.commit();
            }
            System.err.println("wrote " + out.resolve(ReportWriter.METRICS) + " and " + out.resolve(ReportWriter.REPORT));
        }
        if (json) System.out.println(MetricsJson.line(MetricsJson.of(result, cmp, verdict)));
        return verdict != null && !verdict.passed() ? 1 : 0;
    }

    private static void printSummary(EvalResult r, Comparison cmp, GateResult gate) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "task %s, %d examples%n", r.task().id(), r.size()));
        for (var e : r.metrics().entrySet()) {
            MetricDelta d = cmp == null ? null : cmp.delta(e.getKey());
            if (d == null) {
                b.append(String.format(Locale.ROOT, "  %-24s %10.4f%n", e.getKey(), e.getValue()));
            } else {
                b.append(String.format(Locale.ROOT, "  %-24s %10.4f  baseline %10.4f  delta %+.4f [%+.4f, %+.4f]%s%n",
                        e.getKey(), d.candidate(), d.baseline(), d.delta(), d.ciLow(), d.ciHigh(),
                        d.significant() ? " *" : ""));
            }
        }
        if (cmp != null) {
            b.append(String.format(Locale.ROOT, "  McNemar exact: baseline-only %d, candidate-only %d, p = %.4g%n",
                    cmp.mcnemar().baselineOnly(), cmp.mcnemar().candidateOnly(), cmp.mcnemar().pValue()));
        }
        if (gate != null) {
            b.append("gate ").append(gate.passed() ? "PASSED" : "FAILED").append('\n');
            for (RuleOutcome o : gate.outcomes()) {
                b.append(String.format(Locale.ROOT, "  [%s] %s  (%s)%n", o.status(), o.rule(), o.message()));
            }
        }
        System.err.print(b);
    }
}
