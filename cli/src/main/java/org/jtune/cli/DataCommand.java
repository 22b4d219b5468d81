package org.jtune.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** `jtune data`: groups the dataset commands; on its own it prints its usage and exits 2. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Work with training data (JSONL: OpenAI chat, Alpaca, ShareGPT, completion, text).",
        subcommands = {
                DataCheckCommand.class,
                DataConvertCommand.class,
                DataSplitCommand.class,
                DataSampleCommand.class,
                DataApplyReviewCommand.class,
                DataAugmentCommand.class,
                DataFromFeedbackCommand.class,
        })
final class DataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }
}
