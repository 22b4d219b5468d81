package org.jtune.cli.demo;

/**
 * What a demo run measured: test accuracy and macro F1 before and after fine-tuning, McNemar's p
 * for the paired change, whether the merged model answers as base + adapter does, and the seconds
 * of the whole run and of its two training phases.
 */
public record DemoOutcome(double baselineAccuracy, double tunedAccuracy, double baselineMacroF1, double tunedMacroF1,
                          double mcnemarP, boolean mergedAgrees, double pretrainSeconds, double loraSeconds, double seconds) {
    /** The demo did its job: fine-tuning beat the baseline and the merge kept the answers. */
    public boolean succeeded() {
        return tunedAccuracy > baselineAccuracy && mergedAgrees;
    }
}
