package org.jtune.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.report.ProgressBar;
import org.jtune.train.run.FineTune;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `jtune train CONFIG.yaml`: runs a fine-tuning recipe with a live progress bar; --resume continues a killed run. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune a model (LoRA or full) from a YAML recipe. Writes the run folder: config.yaml, metrics.jsonl, "
                + "checkpoints/, the PEFT adapter (adapter/) or the model (model/) with the tokenizer files, chat template and "
                + "system message it was trained with (tokenizer_config.json), report.html. The folder is locked while the run "
                + "lasts; a folder holding another run is refused (resume it with --resume). Before the first step it prints a "
                + "memory plan (weights, trainable values with gradients and optimizer state, activations, runtime) and refuses a "
                + "run that will not fit in the memory available, naming the recipe keys that would make it fit "
                + "(-Djtune.memoryPlan.refuse=false in JTUNE_JAVA_OPTS runs it anyway).")
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", description = "The recipe (YAML). Optional with --resume (the run folder's config.yaml is used).")
    Path recipe;

    @Option(names = "--output-dir", description = "Run folder (overrides the recipe's output_dir).")
    Path outputDir;

    @Option(names = "--resume", description = "Continue the run in this folder from its newest intact checkpoint (the recipe, data and "
            + "base model must be those of the checkpoint; every difference is named).")
    Path resume;

    @Option(names = "--device", paramLabel = "cpu|opencl[:N]|cuda[:N]",
            description = "Where the model, adapter and optimizer state live during training (overrides the recipe's device; default cpu).")
    String device;

    @Option(names = "--json", description = "Print the result as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        try {
            Path recipeFile = recipe != null ? recipe : resume != null ? resume.resolve("config.yaml") : null;
            if (recipeFile == null) {
                System.err.println("jtune train: give a recipe file, or --resume RUN_DIR");
                return 2;
            }
            if (resume != null && recipe == null && !java.nio.file.Files.isRegularFile(recipeFile)) {
                System.err.println("jtune train: --resume " + resume + ": " + (java.nio.file.Files.isDirectory(resume)
                        ? "not a run folder (no config.yaml, which every run writes before its first step)" : "no such run folder"));
                return 1;
            }
            RecipeConfig read = RecipeReader.read(recipeFile);
            RecipeConfig config = device == null ? read : read.toBuilder().device(device).build();
            Path runDir = resume != null ? resume : outputDir != null ? outputDir : config.outputDir();
            ProgressBar[] bar = new ProgressBar[1];
            FineTune.Result r = FineTune.run(config, runDir, resume != null, new FineTune.Listener() {
                @Override
                public void info(String message) {
                    if (bar[0] != null) bar[0].message(message);
                    else System.err.println(message);
                }

                @Override
                public void step(FineTune.StepMetrics m) {
                    if (bar[0] == null) {
                        bar[0] = ProgressBar.onStderr(m.totalSteps(), Math.max(1, config.loggingSteps()));
                        bar[0].start(m.step() - 1);
                    }
                    bar[0].update(m.step(), m.loss(), m.lr(), m.tokensPerSecond());
                }

                @Override
                public void eval(long step, double valLoss, Double accuracy) {
                    info(String.format("step %d: val_loss %.4f%s", step, valLoss,
                            accuracy == null ? "" : String.format(", val_accuracy %.4f", accuracy)));
                }
            });
            if (bar[0] != null) bar[0].finish();
            System.err.printf("done: %d steps in %.1f s; output %s; report %s%n", r.steps(), r.seconds(), r.output(),
                    r.runDir().resolve("report.html"));
            if (json) System.out.println(resultJson(r));
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune train: " + e.getMessage());
            return 1;
        }
    }

    /** The --json line: strings escaped by Jackson, a loss that is not a number written as null (JSON has no NaN). */
    static String resultJson(FineTune.Result r) {
        var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        o.put("run_dir", r.runDir().toString());
        o.put("output", r.output().toString());
        o.put("steps", r.steps());
        number(o, "loss", r.lastLoss());
        number(o, "val_loss", r.valLoss());
        number(o, "val_accuracy", r.valAccuracy());
        o.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        return o.toString();
    }

    private static void number(com.fasterxml.jackson.databind.node.ObjectNode o, String key, Double v) {
        if (v == null || !Double.isFinite(v)) o.putNull(key);
        else o.put(key, v);
    }
}
