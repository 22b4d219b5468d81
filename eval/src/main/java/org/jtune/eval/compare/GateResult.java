package org.jtune.eval.compare;

import java.util.List;

/** A gate's verdict and every rule's outcome, in the gate file's order. */
public record GateResult(boolean passed, List<RuleOutcome> outcomes) {
}
