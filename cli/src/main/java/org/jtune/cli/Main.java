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
                GenerateCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                RegistryCommand.class,
                MonitorCommand.class,
                DashboardCommand.class,
        })
public final class Main implements java.util.concurrent.Callable<Integer> {

    public static void main(String[] args) {
        int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(exit);
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
