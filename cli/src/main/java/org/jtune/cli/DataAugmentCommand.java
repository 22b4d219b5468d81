package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.data.augment.AugmentOptions;
import org.jtune.train.data.augment.AugmentReport;
import org.jtune.train.data.augment.DataAugment;
import org.jtune.train.data.augment.LocalModelGenerator;
import org.jtune.train.data.augment.OpenAiServerGenerator;
import org.jtune.train.data.augment.ParaphraseGenerator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `jtune data augment`: paraphrase candidates for scarce labels, filtered, on a review sheet (see DataAugment). */
@Command(name = "augment", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate paraphrase candidates for the examples of chosen labels with a local model or an "
                + "OpenAI-compatible server, filter them, and write them to a review sheet (CSV + HTML).",
                "Filters: empty or out-of-bounds length, the source again, an exact or near duplicate of a training input, "
                        + "of a validation or test input (leakage: --validation/--test, else validation.jsonl and test.jsonl "
                        + "beside --input), or of another candidate, and naming another label. Each candidate keeps its "
                        + "source's answer. Nothing joins the data here: mark the sheet (keep, fix, relabel; blank or drop "
                        + "rejects) and run jtune data apply-review, which adds the approved rows with \"augmented\": true.",
                "Example: jtune data augment --input train.jsonl --per-label-below 60 --n 20 --model models/qwen --out aug.csv"})
final class DataAugmentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The training file (classification-style JSONL).")
    Path input;

    @Option(names = "--labels", paramLabel = "L1,L2", split = ",", description = "The labels to augment.")
    List<String> labels;

    @Option(names = "--per-label-below", paramLabel = "N", description = "Augment every label with fewer than N training rows.")
    Integer perLabelBelow;

    @Option(names = "--n", paramLabel = "K", defaultValue = "20", description = "Candidates to keep per label (default ${DEFAULT-VALUE}).")
    int n;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", description = "A model folder to generate with.")
        Path model;

        @Option(names = "--server", paramLabel = "URL", description = "An OpenAI-compatible server, e.g. http://localhost:8080 (jtune serve, llama.cpp, vLLM, Ollama).")
        String server;
    }

    @Option(names = "--model-name", paramLabel = "NAME", description = "With --server: the model to ask for (default: the first at /v1/models).")
    String modelName;

    @Option(names = "--api-key", paramLabel = "KEY", description = "With --server: a bearer token.")
    String apiKey;

    @Option(names = "--completions", description = "With --server: use /v1/completions (base models) instead of /v1/chat/completions.")
    boolean completions;

    @Option(names = "--out", required = true, paramLabel = "SHEET.csv", description = "The review sheet to write (SHEET.html beside it).")
    Path out;

    @Option(names = "--validation", paramLabel = "FILE", description = "Validation file candidates must not leak into (repeatable).")
    List<Path> validation = new ArrayList<>();

    @Option(names = "--test", paramLabel = "FILE", description = "Test file candidates must not leak into (repeatable).")
    List<Path> test = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the example order and sampling (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "Sampling temperature (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus sampling mass (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64", description = "Most tokens per candidate (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--max-attempts", paramLabel = "N", description = "Generations per label at most (default 4 x --n).")
    Integer maxAttempts;

    @Option(names = "--prompt-template", paramLabel = "TEXT", description = "The prompt; {input} is the example's input, {label} its answer.")
    String promptTemplate;

    @Option(names = "--near-threshold", paramLabel = "T", defaultValue = "0.8", description = "Character 5-gram Jaccard of a near duplicate (default ${DEFAULT-VALUE}).")
    double nearThreshold;

    @Option(names = "--length-ratios", paramLabel = "MIN,MAX", defaultValue = "0.3,3",
            description = "Candidate length bounds relative to its source (at least 3 and up to 40 characters always pass; default ${DEFAULT-VALUE}).")
    String lengthRatios;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120", description = "With --server: seconds per request (default ${DEFAULT-VALUE}).")
    int timeout;

    @Option(names = "--json", description = "Also print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        AugmentReport report;
        try {
            double[] ratios = DataSplitCommand.doubles(lengthRatios, "--length-ratios");
            if (ratios.length != 2) throw new JtuneException("--length-ratios: expected MIN,MAX");
            List<Path> holdouts = new ArrayList<>(validation);
            holdouts.addAll(test);
            for (Path h : holdouts) if (!Files.isRegularFile(h)) throw new JtuneException(h + ": no such file");
            var b = AugmentOptions.builder(input, out).labels(labels).perLabelBelow(perLabelBelow == null ? 0 : perLabelBelow).n(n)
                    .holdouts(DataAugment.holdouts(input, holdouts)).nearThreshold(nearThreshold).lengthRatios(ratios[0], ratios[1]).seed(seed);
            if (maxAttempts != null) b.maxAttempts(maxAttempts);
            if (promptTemplate != null) b.promptTemplate(promptTemplate.replace("\\n", "\n"));
            AugmentOptions options = b.build();
            if (maxNewTokens < 1) throw new JtuneException("--max-new-tokens must be >= 1");
            try (ParaphraseGenerator generator = source.model != null
                    ? LocalModelGenerator.load(source.model, temperature, topP, maxNewTokens)
                    : new OpenAiServerGenerator(source.server, modelName, !completions, apiKey, temperature, topP, maxNewTokens,
                    Duration.ofSeconds(timeout))) {
                report = DataAugment.run(options, generator);
            }
        } catch (JtuneException e) {
            err.println("jtune data augment: " + e.getMessage());
            err.flush();
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("jtune data augment: " + e.getMessage());
            err.flush();
            return 2;
        }
        err.print(report.text());
        err.flush();
        if (json) {
            spec.commandLine().getOut().println(report.json());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

}
