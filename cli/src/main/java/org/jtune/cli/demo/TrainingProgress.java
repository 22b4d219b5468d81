package org.jtune.cli.demo;

import java.io.PrintStream;
import java.util.Locale;
import org.jtune.train.report.ProgressBar;
import org.jtune.train.run.FineTune;

/**
 * What the demo shows while a recipe trains: a live progress bar on stderr (as `jtune train` draws
 * it), the recipe's messages (example and parameter counts, warnings) and each validation result as
 * indented lines of the demo's text (the bar is erased first, as the two may share a terminal).
 * {@link #SILENT} shows nothing (tests).
 */
final class TrainingProgress implements FineTune.Listener {
    static final FineTune.Listener SILENT = new FineTune.Listener() {};

    private final PrintStream text;
    private final int plainEvery;
    private ProgressBar bar;

    TrainingProgress(PrintStream text, int plainEvery) {
        this.text = text;
        this.plainEvery = plainEvery;
    }

    @Override
    public void info(String message) {
        if (bar != null) bar.clear();
        text.println("  " + message);
        text.flush();
    }

    @Override
    public void step(FineTune.StepMetrics m) {
        if (bar == null) {
            bar = ProgressBar.onStderr(m.totalSteps(), plainEvery);
            bar.start(m.step() - 1);
        }
        bar.update(m.step(), m.loss(), m.lr(), m.tokensPerSecond());
        if (m.step() == m.totalSteps()) {
            bar.finish();
            bar = null;
        }
    }

    @Override
    public void eval(long step, double valLoss, Double accuracy) {
        info(String.format(Locale.ROOT, "validation at step %d: loss %.4f%s", step, valLoss,
                accuracy == null ? "" : String.format(Locale.ROOT, ", accuracy %.3f", accuracy)));
    }
}
