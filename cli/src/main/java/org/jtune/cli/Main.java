package org.jtune.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The `jtune` command: a thin layer over the Java API; each sub-command lives in its own class.
 * Without a sub-command it prints the usage on stderr and exits 2 (a usage error), as picocli does for bad options.
 */
@Command(name = "jtune",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Fine-tune, evaluate, merge and run small language models on premises, in pure Java.",
        subcommands = {
                DemoCommand.class,
                BenchCommand.class,
                DataCommand.class,
                EvalCommand.class,
                TokenizeCommand.class,
                TrainCommand.class,
                MergeCommand.class,
                QuantizeCommand.class,
                ExportCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                RegistryCommand.class,
                MonitorCommand.class,
                DashboardCommand.class,
        })
public final class Main implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the stack trace of an error (errors are one line without it).")
    void debug(boolean on) {
        if (on) System.setProperty("jtune.debug", "true");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line {@code args} and returns the exit code (errors end in one line on stderr; see CliErrors). */
    public static int run(String... args) {
        java.util.List<String> words = new java.util.ArrayList<>(); // "jtune train", "jtune data check": no paths, no data
        for (String a : args) {
            if (words.size() == 2 || !a.matches("[a-z][a-z-]*")) break;
            words.add(a);
        }
        System.setProperty("jtune.command", String.join(" ", "jtune", String.join(" ", words)).strip());
        System.clearProperty("jtune.debug");
        return commandLine().execute(args);
    }

    /** The `jtune` command line with its error handling. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(CliErrors.handler());
        return cl;
    }

    /** Exit code of a command line that names no sub-command. */
    static final int USAGE = 2;

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) p.load(in);
            }
            return new String[] {"jtune " + p.getProperty("version", "unknown")
                    + " (Java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " cores)"};
        }
    }
}
