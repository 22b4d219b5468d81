package org.jtune.serve.monitor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtune.JtuneException;

/**
 * What production traffic is compared with: the prompts of the training data (see {@link PromptText}),
 * and, for a classification model, the label distribution of the validation set (its final assistant
 * answers).
 *
 * @param labels label → count in the validation file; empty when no validation file was given
 */
public record DriftReference(String source, List<String> prompts, Map<String, Long> labels) {

    public static DriftReference read(List<Path> training, Path validation) throws JtuneException {
        List<String> prompts = new ArrayList<>();
        for (Path p : training) {
            for (String line : lines(p)) {
                String t = PromptText.ofDatasetLine(line);
                if (t != null) prompts.add(t);
            }
        }
        if (prompts.isEmpty()) throw new JtuneException("reference " + training + " holds no prompts (chat, completion, Alpaca or text JSONL)");
        Map<String, Long> labels = new TreeMap<>();
        if (validation != null) {
            for (String line : lines(validation)) {
                String a = PromptText.answerOfDatasetLine(line);
                if (a != null) labels.merge(a.strip(), 1L, Long::sum);
            }
            if (labels.isEmpty()) throw new JtuneException("validation file " + validation + " has no chat lines ending in an assistant answer");
        }
        return new DriftReference(training.toString() + (validation == null ? "" : " + labels of " + validation), prompts, labels);
    }

    private static List<String> lines(Path p) throws JtuneException {
        try {
            return Files.readAllLines(p).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new JtuneException("cannot read reference " + p + ": " + e.getMessage(), e);
        }
    }
}
