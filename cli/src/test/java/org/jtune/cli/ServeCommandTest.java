package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `jtune serve`'s command line: listed in --help, and bad input is one line on stderr with exit != 0 (the server itself is tested in serve). */
class ServeCommandTest {
    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new Main()).execute(args);
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void helpListsServeAndItsOptions() {
        assertTrue(run("--help").out().contains("serve"));
        String help = run("serve", "--help").out();
        for (String opt : new String[] {"--model", "--served-model-name", "--adapter", "--chat-template", "--system", "--host", "--port", "--api-key",
                "--api-key-file", "--max-batch", "--max-queue", "--max-body-bytes", "--log-db", "--kv-budget-bytes"}) {
            assertTrue(help.contains(opt), opt);
        }
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path tmp) throws Exception {
        Run missing = run("serve", "--model", tmp.resolve("nowhere").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("nowhere") && missing.err().strip().lines().count() == 1, missing.err());

        Path model = SharedData.require("models/stories260K");
        Run adapter = run("serve", "--model", model.toString(), "--adapter", "no-equals-sign");
        assertEquals(1, adapter.exit());
        assertTrue(adapter.err().contains("NAME=DIR"), adapter.err());

        Run gguf = run("serve", "--model", Files.writeString(tmp.resolve("m.gguf"), "x").toString());
        assertEquals(1, gguf.exit());
        assertTrue(gguf.err().contains("GGUF"), gguf.err());

        Path empty = Files.writeString(tmp.resolve("key"), "\n");
        Run key = run("serve", "--model", model.toString(), "--api-key-file", empty.toString());
        assertEquals(1, key.exit());
        assertTrue(key.err().contains("empty"), key.err());

        assertNotEquals(0, run("serve", "--model", model.toString(), "--api-key", "a", "--api-key-file", empty.toString()).exit());
        Run adapterMissing = run("serve", "--model", model.toString(), "--adapter", "x=" + tmp.resolve("none"), "--port", "0");
        assertEquals(1, adapterMissing.exit());
        assertTrue(adapterMissing.err().contains("adapter x"), adapterMissing.err());

        Run budget = run("serve", "--model", model.toString(), "--kv-budget-bytes", "lots");
        assertEquals(1, budget.exit());
        assertTrue(budget.err().contains("--kv-budget-bytes") && budget.err().contains("lots"), budget.err());
    }
}
