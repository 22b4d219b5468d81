package org.jtune.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs `jtune ARGS` in this JVM through {@link Main#run}, with stdout and stderr captured. */
record CliRun(int exit, String out, String err) {
    static CliRun of(String... args) {
        return withInput("", args);
    }

    /** As {@link #of}, with {@code stdin} as the command's standard input. */
    static CliRun withInput(String stdin, String... args) {
        java.io.InputStream oldIn = System.in;
        System.setIn(new java.io.ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            return run(args);
        } finally {
            System.setIn(oldIn);
        }
    }

    private static CliRun run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** The last line of stderr: where every failing command says what went wrong. */
    String lastErrLine() {
        String[] lines = err.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** Whether the run failed with one line on stderr that names the problem: no stack trace, no Java class name. */
    boolean failedWithOneLine(String command, String... mustContain) {
        if (exit == 0) return false;
        String last = lastErrLine();
        if (!last.startsWith("jtune " + command + ": ")) return false;
        if (err.contains("\tat ") || err.contains("Exception") || err.contains("java.lang.")) return false;
        for (String m : mustContain) if (!last.contains(m)) return false;
        return true;
    }

    @Override
    public String toString() {
        return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
}
