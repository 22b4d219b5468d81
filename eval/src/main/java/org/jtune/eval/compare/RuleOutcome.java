package org.jtune.eval.compare;

/** The result of one gate rule: PASS, FAIL (condition false) or ERROR (could not be evaluated; counts as failing). */
public record RuleOutcome(String rule, Status status, Double actual, String message) {
    public enum Status { PASS, FAIL, ERROR }

    public boolean passed() {
        return status == Status.PASS;
    }
}
