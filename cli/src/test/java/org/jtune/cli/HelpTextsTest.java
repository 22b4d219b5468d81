package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's help renders without picocli warnings: a bare '%' in a description ("40% of the heap") made
 * `jtune serve --help` print three "[picocli WARN] Could not format" lines before its usage.
 */
class HelpTextsTest {
    @Test
    void everyCommandsHelpRendersCleanly() {
        List<String> bad = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            walk(Main.commandLine(), captured, bad, seen);
        } finally {
            System.setErr(err);
        }
        assertEquals(List.of(), bad);
        assertTrue(seen.size() > 20 && seen.contains("jtune serve"), "commands rendered: " + seen);
    }

    private static void walk(CommandLine cl, ByteArrayOutputStream captured, List<String> bad, List<String> seen) {
        captured.reset();
        String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        String warnings = captured.toString(StandardCharsets.UTF_8);
        String name = cl.getCommandSpec().qualifiedName();
        seen.add(name);
        if (!warnings.isBlank() || usage.contains("%n")) bad.add(name + ": " + warnings.strip());
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, captured, bad, seen);
    }
}
