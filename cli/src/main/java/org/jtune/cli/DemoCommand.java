package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.cli.demo.Demo;
import org.jtune.train.report.ProgressBar;
import org.jtune.train.run.FineTune;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `jtune demo`: the whole pipeline on a tiny model and dataset generated on the spot. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline on data and a model it generates itself (no downloads): data generation, a small "
                + "base model, data check, baseline evaluation, LoRA fine-tuning with a progress bar, evaluation against the "
                + "baseline, merge, generation. About a minute on 2 cores; everything is kept in --dir.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "Folder for the demo's files (default: a new temporary folder).")
    Path dir;

    @Option(names = "--examples", defaultValue = "640", description = "Training tickets to generate (default ${DEFAULT-VALUE}).")
    int examples;

    @Override
    public Integer call() throws Exception {
        Path folder = dir != null ? dir : Files.createTempDirectory("jtune-demo-");
        System.out.println("jtune demo in " + folder);
        FineTune.Listener progress = new FineTune.Listener() {
            ProgressBar bar;

            @Override
            public void info(String message) {
                if (message.startsWith("WARNING")) System.err.println("  " + message);
            }

            @Override
            public void step(FineTune.StepMetrics m) {
                if (bar == null || m.step() == 1) {
                    bar = ProgressBar.onStderr(m.totalSteps(), 10);
                    bar.start(m.step() - 1);
                }
                bar.update(m.step(), m.loss(), m.lr(), m.tokensPerSecond());
                if (m.step() == m.totalSteps()) bar.finish();
            }
        };
        Demo.Outcome o = new Demo(folder, examples, 4, 6, System.out, progress).run();
        return o.tunedAccuracy() > o.baselineAccuracy() && o.mergedAgrees() ? 0 : 1;
    }
}
