package org.jtune.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `jtune` command: a thin layer over the Java API; each sub-command lives in its own class. */
@Command(name = "jtune",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Fine-tune, evaluate and serve small language models on premises, in pure Java.",
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
public final class Main implements Runnable {

    public static void main(String[] args) {
        int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(exit);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
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
