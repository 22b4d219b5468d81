package org.jtune.eval;

import java.util.Locale;
import org.jtune.JtuneException;

/** The kinds of scoring jtune knows; each has one {@link Evaluator}. */
public enum Task {
    /** A closed label set: accuracy, per-class P/R/F1, confusion matrix. */
    CLASSIFICATION,
    /** Free text: exact match, ROUGE, BLEU, chrF, lengths. */
    GENERATION,
    /** Structured (JSON) answers: validity, required fields, field accuracy. */
    EXTRACTION;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Task parse(String name) throws JtuneException {
        for (Task t : values()) if (t.id().equalsIgnoreCase(name.trim())) return t;
        throw new JtuneException("unknown task '" + name + "': use classification, generation or extraction");
    }
}
