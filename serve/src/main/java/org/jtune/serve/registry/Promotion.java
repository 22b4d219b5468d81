package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jtune.JtuneException;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.Gate;
import org.jtune.eval.compare.GateResult;
import org.jtune.eval.report.MetricsJson;
import org.jtune.eval.run.ChatTestSet;

/**
 * A gated promotion: the candidate version and the current production version (or, when there is
 * none, the candidate's base model) answer the same test set; the eval code scores both and compares
 * them (paired bootstrap, McNemar) and the gate's rules decide. A failing gate refuses the promotion
 * and writes nothing; {@code force} with a reason promotes anyway and records the verdict, the reason
 * and that it was forced. The stage change names the registry revision read before the evaluation,
 * so a promotion or rollback that landed meanwhile makes this one fail instead of silently winning.
 *
 * @param task   the evaluation task, or null to infer it (classification when {@code settings} has labels)
 * @param testSet the test file (its hash goes in the audit log)
 */
public record Promotion(Gate gate, Path testSet, EvalSettings settings, Task task, Predictor predictor, int resamples, long seed) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What happened: promoted or refused, the verdict, and what the candidate was compared with. */
    public record Outcome(boolean promoted, boolean forced, ModelVersion version, String baseline, GateResult verdict, Comparison comparison) {}

    public Outcome run(Registry registry, String name, int version, Stage to, boolean force, String reason, String who) throws JtuneException {
        if (force && (reason == null || reason.isBlank())) throw new JtuneException("--force needs --reason TEXT (it is recorded in the audit log)");
        long revision = registry.revision(name);
        ModelVersion candidate = registry.version(name, version);
        Optional<ModelVersion> production = registry.production(name);
        if (production.isPresent() && production.get().version() == version) throw new JtuneException(candidate.label() + " is already in production");
        if (gate == null) {
            if (to == Stage.PRODUCTION && !force) throw new JtuneException("promotion to production needs --gate GATE.yaml --data TEST.jsonl (or --force --reason TEXT)");
            ModelVersion v = registry.setStage(name, version, to, revision, who, reason, JSON.createObjectNode().put("forced", force).put("gate", (String) null));
            return new Outcome(true, force, v, null, null, null);
        }
        List<ChatTestSet.Example> examples = ChatTestSet.read(testSet);
        List<Prediction> cand = predictions(registry, candidate, examples);
        String baselineLabel;
        List<Prediction> base;
        if (production.isPresent()) {
            baselineLabel = production.get().label();
            base = predictions(registry, production.get(), examples);
        } else {
            if (candidate.baseModel() == null) throw new JtuneException(candidate.label() + " names no base model to compare with, and nothing is in production");
            baselineLabel = "base " + candidate.baseModel();
            base = predictor.predict(Path.of(candidate.baseModel()), null, registry.artifactFolder(candidate), examples); // asked as the candidate is
        }
        Task t = task != null ? task : settings.inferTask(cand);
        Evaluator evaluator = settings.evaluatorFor(t);
        Comparison cmp = Comparison.run(evaluator, base, cand, resamples, seed);
        GateResult verdict = gate.evaluate(cmp.candidate(), cmp);
        if (!verdict.passed() && !force) return new Outcome(false, false, candidate, baselineLabel, verdict, cmp);

        ObjectNode details = JSON.createObjectNode();
        details.put("forced", force && !verdict.passed());
        details.put("baseline", baselineLabel);
        details.put("gate_file", gate.source().toString());
        try {
            details.put("test_set", testSet.toAbsolutePath().toString()).put("test_set_sha256", Sha256.of(testSet));
        } catch (java.io.IOException e) {
            throw new JtuneException("cannot hash " + testSet + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        details.set("evaluation", MetricsJson.of(cmp.candidate(), cmp, verdict).without("report"));
        ModelVersion v = registry.setStage(name, version, to, revision, who, reason, details);
        return new Outcome(true, force && !verdict.passed(), v, baselineLabel, verdict, cmp);
    }

    /** A version's answers: a full model from its stored folder, an adapter from its stored folder applied to its base (checked against the registered hash). */
    private List<Prediction> predictions(Registry registry, ModelVersion v, List<ChatTestSet.Example> examples) throws JtuneException {
        Path artifact = registry.artifactFolder(v);
        if (v.kind().equals("model")) return predictor.predict(artifact, null, artifact, examples);
        Path base = Path.of(v.baseModel());
        if (!Files.isDirectory(base)) throw new JtuneException(v.label() + ": its base model " + base + " is gone");
        if (v.baseSha256() != null) {
            String now = ArtifactManifest.of(base).sha256();
            if (!now.equals(v.baseSha256())) {
                throw new JtuneException(v.label() + ": base model " + base + " changed since registration (files hash " + now + ", registered "
                        + v.baseSha256() + ")");
            }
        }
        return predictor.predict(base, artifact, artifact, examples);
    }
}
