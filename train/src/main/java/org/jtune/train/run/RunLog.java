package org.jtune.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.train.checkpoint.TrainerState;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.report.MetricsLog;
import org.jtune.train.report.MetricsRow;
import org.jtune.train.report.MlflowClient;
import org.jtune.train.report.RunReport;

/**
 * The run folder's metrics.jsonl (continued, not restarted, on resume) and its report.html, and,
 * when the recipe names an MLflow tracking server, the same parameters and metrics sent to it. An
 * unreachable tracking server is reported once and never stops training.
 */
final class RunLog {
    private final Path runDir;
    private final MetricsLog metrics;
    private final FineTune.Listener listener;
    private MlflowClient mlflow;
    private String mlflowRun;

    RunLog(Path runDir, boolean resume, long step, RecipeConfig recipe, FineTune.Listener listener) throws JtuneException {
        this.runDir = runDir;
        this.listener = listener;
        if (recipe.mlflowTrackingUri() != null) {
            try {
                mlflow = MlflowClient.of(recipe.mlflowTrackingUri());
                String experiment = mlflow.experimentId(recipe.mlflowExperimentName() != null ? recipe.mlflowExperimentName() : "jtune");
                mlflowRun = mlflow.createRun(experiment, runDir.getFileName().toString(), System.currentTimeMillis(), Map.of("source", "jtune"));
                Map<String, String> params = new LinkedHashMap<>();
                params.put("base_model", String.valueOf(recipe.baseModel()));
                params.put("adapter", recipe.adapter().name().toLowerCase());
                params.put("learning_rate", Double.toString(recipe.learningRate()));
                params.put("lora_r", Integer.toString(recipe.loraR()));
                params.put("lora_alpha", Double.toString(recipe.loraAlpha()));
                params.put("micro_batch_size", Integer.toString(recipe.microBatchSize()));
                params.put("gradient_accumulation_steps", Integer.toString(recipe.gradientAccumulationSteps()));
                params.put("num_epochs", Integer.toString(recipe.numEpochs()));
                params.put("seed", Long.toString(recipe.seed()));
                mlflow.logBatch(mlflowRun, params, List.of());
            } catch (JtuneException e) {
                mlflowFailed(e);
            }
        }
        try {
            Path file = runDir.resolve("metrics.jsonl");
            this.metrics = resume ? MetricsLog.resume(file, step) : MetricsLog.create(file);
        } catch (IOException e) {
            throw new JtuneException("cannot write " + runDir.resolve("metrics.jsonl") + ": " + e.getMessage(), e);
        }
    }

    void step(FineTune.StepMetrics m) throws JtuneException {
        write(MetricsRow.at(m.step(), m.epoch(), m.elapsedSeconds())
                .with(MetricsRow.LOSS, m.loss()).with(MetricsRow.LR, m.lr())
                .with(MetricsRow.GRAD_NORM, m.gradNorm()).with(MetricsRow.TOKENS_PER_S, m.tokensPerSecond()));
    }

    void eval(long step, double epoch, double valLoss, Double accuracy, double elapsed) throws JtuneException {
        MetricsRow row = MetricsRow.at(step, epoch, elapsed).with(MetricsRow.VAL_LOSS, valLoss);
        write(accuracy == null ? row : row.with("val_accuracy", accuracy));
    }

    private void write(MetricsRow row) throws JtuneException {
        try {
            metrics.log(row);
        } catch (IOException e) {
            throw new JtuneException("cannot append to " + metrics.file() + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        if (mlflow != null) {
            try {
                mlflow.logBatch(mlflowRun, Map.of(), MlflowClient.metricsOf(row, System.currentTimeMillis()));
            } catch (JtuneException e) {
                mlflowFailed(e);
            }
        }
    }

    private void mlflowFailed(JtuneException e) {
        listener.info("WARNING MLflow logging stopped: " + e.getMessage() + " (training goes on; metrics.jsonl has everything)");
        mlflow = null;
    }

    void report(RecipeConfig recipe, TrainerState state, Path output) throws JtuneException {
        try {
            metrics.close();
            Map<String, String> info = new LinkedHashMap<>();
            info.put("base model", String.valueOf(recipe.baseModel()));
            info.put("adapter", recipe.adapter().name().toLowerCase());
            info.put("steps", Long.toString(state.globalStep()));
            info.put("tokens seen", Long.toString(state.tokensSeen()));
            info.put("training time", String.format("%.1f s", state.elapsedSeconds()));
            info.put("output", String.valueOf(output));
            if (state.bestStep() != null) info.put("best step", Long.toString(state.bestStep()));
            RunReport.write(metrics.file(), runDir.resolve("report.html"), "jtune run " + runDir.getFileName(), info);
            if (mlflow != null) mlflow.updateRun(mlflowRun, MlflowClient.RunStatus.FINISHED, System.currentTimeMillis());
        } catch (IOException e) {
            throw new JtuneException("cannot write the report in " + runDir + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
    }
}
