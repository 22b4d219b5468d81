package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jtune.JtuneException;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckJson;
import org.jtune.train.data.DataCheckOptions;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.data.ModelTokenCounter;
import org.jtune.train.data.DatasetFormat;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.models.arch.Architectures;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `jtune data check`: validates a dataset file (and a validation file) line by line and prints the
 * quality report (human text on stderr; with --json one JSON object on stdout, see DataCheckJson).
 * Exit 0 when there are no errors (warnings allowed), 1 when there are errors, 2 when the check
 * could not run (a missing file, a bad option).
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate JSONL training data and print a quality report. Exit 1 if there are errors.")
final class DataCheckCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training data (JSONL).")
    Path data;

    @Option(names = "--validation", paramLabel = "FILE", description = "Validation data; also checked for overlap with --data.")
    Path validation;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder whose tokenizer counts the tokens of each example rendered with its chat template "
                    + "(without --model: a whitespace estimate).")
    Path model;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Template to render chat examples with --model (default: the recipe's chat_template, else the model's own).")
    String chatTemplate;

    @Option(names = "--recipe", paramLabel = "FILE",
            description = "A training recipe: its sequence_len, base_model (when --model is not given), chat_template and system_message "
                    + "(or drop_system_message) are used, so lengths are counted as training counts them.")
    Path recipe;

    @Option(names = "--sequence-len", paramLabel = "N",
            description = "Warn about examples longer than this many tokens (default: the recipe's sequence_len, else the "
                    + "--model's context, max_position_embeddings).")
    Integer sequenceLength;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "auto, chat, alpaca, sharegpt, completion or text (default: ${DEFAULT-VALUE}: detected per file).")
    String format;

    @Option(names = "--max-issues", paramLabel = "N", defaultValue = "20",
            description = "Print at most N errors and N warnings (all are counted; default: ${DEFAULT-VALUE}).")
    int maxIssues;

    @Option(names = "--json", description = "Also print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        DatasetFormat explicit = null;
        if (!format.equalsIgnoreCase("auto")) {
            var f = DatasetFormat.fromId(format);
            if (f.isEmpty()) return fail(err, "--format " + format + ": expected auto, chat, alpaca, sharegpt, completion or text");
            explicit = f.get();
        }
        if (sequenceLength != null && sequenceLength < 1) return fail(err, "--sequence-len must be >= 1, got " + sequenceLength);
        if (maxIssues < 0) return fail(err, "--max-issues must be >= 0, got " + maxIssues);

        DataCheckReport report;
        try {
            Path modelDir = model;
            String template = chatTemplate;
            int limit = 0; // none known
            String systemMessage = null; // the data's own
            if (recipe != null) {
                RecipeConfig r = RecipeReader.read(recipe);
                if (modelDir == null) modelDir = r.baseModel();
                if (template == null) template = r.chatTemplate();
                limit = r.sequenceLen();
                systemMessage = r.systemMessageOverride();
            }
            if (modelDir != null && !Files.isDirectory(modelDir)) return fail(err, "--model " + modelDir + ": not a directory");
            if (limit == 0 && modelDir != null) limit = Architectures.readConfig(modelDir).maxPositionEmbeddings();
            if (sequenceLength != null) limit = sequenceLength;
            var options = DataCheckOptions.builder(data).validation(validation).format(explicit).sequenceLength(limit);
            if (modelDir != null) {
                options.model(new ModelTokenCounter(modelDir, template, systemMessage, modelDir.getFileName().toString()));
            }
            report = DataCheck.run(options.build());
        } catch (JtuneException e) {
            return fail(err, e.getMessage());
        } catch (IllegalStateException e) {
            return fail(err, e.getMessage());
        }
        err.print(DataCheckText.render(report, maxIssues));
        err.flush();
        if (json) {
            ObjectNode node = DataCheckJson.toJson(report, maxIssues);
            out.println(node);
            out.flush();
        }
        return report.exitCode();
    }

    private static int fail(PrintWriter err, String message) {
        err.println("jtune data check: " + message);
        err.flush();
        return 2;
    }
}
