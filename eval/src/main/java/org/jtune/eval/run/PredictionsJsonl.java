package org.jtune.eval.run;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;

/**
 * predictions.jsonl of a model evaluation: one line per example with id, input, reference, prediction
 * and its score ({@code correct}: the task's per-example verdict), and {@code invalid_reason} for an example
 * that could not be generated. `jtune eval --predictions` reads
 * it back, so a run can later be a baseline.
 */
public final class PredictionsJsonl {
    public static final String FILE = "predictions.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionsJsonl() {}

    public static void write(Path file, List<Prediction> predictions, EvalResult result) throws JtuneException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < predictions.size(); i++) {
            Prediction p = predictions.get(i);
            ObjectNode o = JSON.createObjectNode();
            o.put("id", p.id());
            o.put("input", p.input());
            o.put("reference", p.reference());
            o.put("prediction", p.prediction());
            if (p.invalidReason() != null) o.put("invalid_reason", p.invalidReason());
            if (result != null && result.correct() != null && i < result.correct().length) o.put("correct", result.correct()[i]);
            sb.append(o).append('\n');
        }
        AtomicFile.writeString(file, sb.toString());
    }
}
