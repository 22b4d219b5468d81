package org.jtune.eval.classification;

/** An answer that names no label of the set (it counts as wrong); kept to show the user what went wrong. */
public record InvalidAnswer(String id, String where, String answer, String reference) {
}
