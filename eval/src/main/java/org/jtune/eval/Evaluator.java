package org.jtune.eval;

import java.util.List;
import org.jtune.JtuneException;

/**
 * Scores a list of predictions. Implementations are stateless apart from their settings, so one
 * evaluator can score a baseline and a candidate on the same examples. Bad input (a reference outside
 * the label set, no examples at all) is a {@link JtuneException} naming the record's {@code where};
 * answers that are merely wrong (an invalid label, broken JSON) are counted and reported instead.
 */
public interface Evaluator {
    Task task();

    EvalResult evaluate(List<Prediction> predictions) throws JtuneException;
}
