package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.PredictionFile;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.eval.run.PredictionsJsonl;
import org.jtune.eval.run.SuiteRun;
import org.jtune.eval.run.TestSetSample;
import org.jtune.models.chat.PromptFormat;
import org.jtune.eval.suite.RegressionSuite;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.CausalLM;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;

/** The model side of `jtune eval`: generating predictions for a model (and a baseline model) over the test set. */
final class ModelRun {
    private ModelRun() {}

    /**
     * Predictions of a model (with an adapter, or null) on the test set (--limit: a seeded sample, stratified by
     * label for classification). The prompt format is the flags', else the one kept with {@code formatDir} (the
     * candidate's adapter: a baseline is asked in the same format), else the model's own.
     */
    static List<Prediction> predictions(EvalCommand c, Path modelDir, Path adapterDir, Path formatDir, String what) throws JtuneException {
        List<ChatTestSet.Example> examples = ChatTestSet.read(c.data);
        if (c.limit != null) {
            boolean stratify = c.labels != null || (c.task != null && c.task.equalsIgnoreCase("classification"));
            examples = TestSetSample.draw(examples, c.limit, c.seed, stratify);
        }
        try (CausalLM m = load(modelDir, c.quantize, c.device, c.kvType)) {
            if (adapterDir != null) PeftFormat.load(adapterDir, m, org.jtune.models.lora.Adapters.DEFAULT, c.allowBaseMismatch);
            Tokenizer tok = Tokenizer.load(modelDir);
            SamplingConfig sampling = c.promptLookup.apply(c.jsonSchema.apply(ModelEvaluation.greedy(m, tok, c.maxNewTokens), tok));
            ModelEvaluation run = new ModelEvaluation(m, tok, template(modelDir, formatDir, c.chatTemplate),
                    PromptFormat.systemMessage(modelDir, formatDir, c.systemMessage), sampling, c.batchSize);
            long t0 = System.nanoTime();
            List<Prediction> p = run.run(examples);
            double s = (System.nanoTime() - t0) / 1e9;
            System.err.printf("%s: %d examples generated in %.1f s (%.1f examples/s, batch %d)%n", what, p.size(), s, p.size() / s, c.batchSize);
            List<Prediction> invalid = p.stream().filter(x -> x.invalidReason() != null).toList();
            if (!invalid.isEmpty()) {
                System.err.printf("%s: %d example(s) not generated, scored as invalid answers; first: %s: %s%n", what, invalid.size(),
                        invalid.getFirst().where(), invalid.getFirst().invalidReason());
            }
            return p;
        } catch (JtuneException e) {
            throw e;
        } catch (Exception | OutOfMemoryError e) {
            throw new JtuneException(modelDir + ": " + CliErrors.line(e), e);
        }
    }

    /**
     * The model of {@code dir} with its weights on --device (checked before anything is read, as --kv-type is against it), its
     * KV caches of --kv-type, in the serving layout on the CPU.
     */
    static CausalLM load(Path dir, String quantize, String device, KvTypeOption kvType) throws JtuneException {
        org.jtune.tensor.Device d = org.jtune.tensor.Device.open(device);
        org.jtune.tensor.DType kv = kvType.type(d);
        CausalLM m = Architectures.load(dir, quantize);
        try {
            org.jtune.models.ModelDevice.move(m, d);
            m.setKvCacheType(org.jtune.models.kv.KvCacheType.orAuto(kv, m.config(), d));
            org.jtune.models.weights.ServingLayout.packProjections(m.weights());   // only generates and scores: the faster layout on the CPU
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** `--suite`: per-category pass rates of the model, and of a baseline model with the change, as text and (with --json) JSON. */
    static int suite(EvalCommand c) throws JtuneException {
        RegressionSuite suite = RegressionSuite.load(c.suite);
        RegressionSuite.Scores cand = suiteScores(c, c.model, c.adapter, suite);
        RegressionSuite.Scores base = c.baseline != null && Files.exists(c.baseline.resolve("config.json"))
                ? suiteScores(c, c.baseline, null, suite) : null;
        StringBuilder sb = new StringBuilder("suite " + suite.name() + " (" + suite.items().size() + " items): pass rate by category\n");
        var json = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("suite", suite.name());
        for (var e : cand.byCategory().entrySet()) {
            Double b = base == null ? null : base.byCategory().get(e.getKey());
            sb.append(String.format(java.util.Locale.ROOT, "  %-12s %5.2f", e.getKey(), e.getValue()));
            if (b != null) sb.append(String.format(java.util.Locale.ROOT, "  baseline %5.2f  change %+5.2f%s", b, e.getValue() - b,
                    e.getValue() < b ? "  (regression)" : ""));
            sb.append('\n');
            json.with("pass_rate").put(e.getKey(), e.getValue());
            if (b != null) json.with("baseline_pass_rate").put(e.getKey(), b);
        }
        System.err.print(sb);
        if (c.out != null) org.jtune.io.AtomicFile.writeString(c.out.resolve("suite.json"), json.toPrettyString() + "\n");
        if (c.json) System.out.println(json);
        return 0;
    }

    private static RegressionSuite.Scores suiteScores(EvalCommand c, Path modelDir, Path adapterDir, RegressionSuite suite) throws JtuneException {
        try (CausalLM m = load(modelDir, c.quantize, c.device, c.kvType)) {
            if (adapterDir != null) PeftFormat.load(adapterDir, m, org.jtune.models.lora.Adapters.DEFAULT, c.allowBaseMismatch);
            Tokenizer tok = Tokenizer.load(modelDir);
            ModelEvaluation run = new ModelEvaluation(m, tok, template(modelDir, c.adapter, c.chatTemplate),
                    PromptFormat.systemMessage(modelDir, c.adapter, c.systemMessage), c.promptLookup.apply(ModelEvaluation.greedy(m, tok, c.maxNewTokens)), c.batchSize);
            return suite.score(SuiteRun.answers(run, suite));
        } catch (JtuneException e) {
            throw e;
        } catch (Exception | OutOfMemoryError e) {
            throw new JtuneException(modelDir + ": " + CliErrors.line(e), e);
        }
    }

    /** A baseline given as a model folder (evaluated here), an earlier --out folder, or a predictions file. */
    static List<Prediction> baseline(EvalCommand c, Path baseline) throws JtuneException {
        if (Files.isDirectory(baseline) && Files.exists(baseline.resolve("config.json"))) {
            if (c.data == null) throw new JtuneException("--baseline " + baseline + " is a model folder: give --data as well");
            return predictions(c, baseline, null, c.adapter, "baseline");
        }
        if (Files.isDirectory(baseline)) return PredictionFile.read(baseline.resolve(PredictionsJsonl.FILE));
        return PredictionFile.read(baseline);
    }

    /** The template of a run: the flag's, else the adapter's (the one it was trained with), else the model's own. */
    static ChatTemplate template(Path modelDir, Path adapterDir, String name) throws JtuneException {
        return ChatTemplate.resolve(modelDir, adapterDir, name, "--chat-template");
    }
}
