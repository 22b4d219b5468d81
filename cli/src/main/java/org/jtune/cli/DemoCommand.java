package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.cli.demo.Demo;
import org.jtune.cli.demo.DemoOutcome;
import org.jtune.cli.demo.DemoSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `jtune demo`: the whole pipeline on a tiny model and dataset generated on the spot (see {@link Demo}).
 * The demo's text is its result, so it goes to stdout (`jtune demo > demo.txt` keeps it), as generate's
 * text does; with --json stdout carries only the JSON objects (one per step) and the text moves to
 * stderr, as the CLI contract has it. Progress bars and errors always go to stderr. Exit 0 when
 * fine-tuning beat the baseline and the merged model answered as base + adapter, 1 otherwise.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        footer = "The demo's text goes to stdout; with --json, stdout carries the JSON objects and the text goes to stderr.",
        description = "Run the whole pipeline on data and a model it generates itself (no downloads): helpdesk-ticket dataset, a tiny "
                + "Llama with its own tokenizer, a short pre-training, data check, baseline evaluation, LoRA fine-tuning with a "
                + "progress bar, evaluation against the baseline, merge, generation, and the commands to repeat each step. "
                + "About a minute on 2 cores; everything is kept in --dir.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", description = "Folder for the demo's files (default: a new temporary folder).")
    Path dir;

    @Option(names = "--json", description = "Print one JSON object per step on stdout (the text then goes to stderr).")
    boolean json;

    @Override
    public Integer call() {
        try {
            Path folder = dir != null ? dir.toAbsolutePath().normalize() : Files.createTempDirectory("jtune-demo-");
            if (Files.isDirectory(folder)) {
                try (var entries = Files.list(folder)) {
                    if (entries.findAny().isPresent()) {
                        System.err.println("jtune demo: " + folder + " is not empty; give a new or empty --dir");
                        return 2;
                    }
                }
            }
            java.io.PrintStream text = json ? System.err : System.out;
            text.println("jtune demo: writing everything to " + folder);
            DemoOutcome o = Demo.of(folder, DemoSize.FULL, text, json ? System.out : null, true).run();
            return o.succeeded() ? 0 : 1;
        } catch (org.jtune.JtuneException e) {
            System.err.println("jtune demo: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("jtune demo: " + e);
            return 1;
        }
    }
}
