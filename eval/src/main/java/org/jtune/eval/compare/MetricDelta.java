package org.jtune.eval.compare;

/** One metric of a comparison: baseline and candidate values, their difference and its bootstrap interval. */
public record MetricDelta(String metric, double baseline, double candidate, double delta, double ciLow,
                          double ciHigh) {
    /** True when the whole interval lies on one side of zero. */
    public boolean significant() {
        return ciLow > 0 || ciHigh < 0;
    }
}
