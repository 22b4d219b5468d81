package org.jtune.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jtune.JtuneException;
import org.jtune.io.IoErrors;
import picocli.CommandLine;

/**
 * How every `jtune` command ends when something goes wrong: one line on stderr, "jtune CMD: what
 * happened", and an exit code other than 0 — no stack trace unless --debug is given, no Java class
 * names ("java.lang.IllegalArgumentException: …") in the text. Errors jtune anticipates carry their
 * own message (a {@link JtuneException}, an IllegalArgumentException from a validating constructor);
 * running out of memory and a model file truncated under its mapping get a sentence that says what
 * to do; anything else is reported as an internal error with a pointer to --debug.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    private CliErrors() {}

    static CliErrors handler() {
        return new CliErrors();
    }

    /** Whether --debug was given (stack traces are printed then). */
    static boolean debug() {
        return Boolean.getBoolean("jtune.debug");
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        return report(cmd.getCommandSpec().qualifiedName(), e, cmd.getErr(), 1);
    }

    /** Prints "jtune CMD: message" (and the stack trace with --debug) to stderr; returns {@code exit}. */
    static int report(String command, Throwable e, int exit) {
        PrintWriter err = new PrintWriter(System.err, true);
        return report(command, e, err, exit);
    }

    private static int report(String command, Throwable e, PrintWriter err, int exit) {
        err.println(command + ": " + line(e));
        if (debug()) e.printStackTrace(err);
        err.flush();
        return exit;
    }

    /** The one-line description of {@code e}. */
    static String line(Throwable e) {
        Throwable t = unwrap(e);
        String message = t.getMessage() == null ? "" : clean(t.getMessage());
        return switch (t) {
            case JtuneException j -> message;
            case IllegalArgumentException i when !message.isEmpty() -> message;
            case IllegalStateException i when !message.isEmpty() -> message;
            case UncheckedIOException u -> IoErrors.reason(u.getCause());
            case IOException io -> IoErrors.reason(io);
            case OutOfMemoryError oom -> "out of memory (" + message + "): lower --batch-size, --max-new-tokens, micro_batch_size or "
                    + "sequence_len, or give the JVM more heap (JTUNE_JAVA_OPTS=-Xmx16g)";
            case InternalError ie when message.contains("unsafe memory access") -> "a memory-mapped model file was truncated or "
                    + "changed while jtune was reading it (" + message + "); rerun once the file is complete";
            case StackOverflowError so -> "stack overflow (deeply nested input?); rerun with --debug for the stack trace";
            default -> "internal error: " + t.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message)
                    + " (rerun with --debug for the stack trace, and please report it)";
        };
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof CompletionException || t instanceof CommandLine.ExecutionException
                || (t.getClass() == RuntimeException.class && t.getCause() != null)) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Drops "java.lang.SomeException: " prefixes that wrapped messages carry. */
    static String clean(String message) {
        return message.replaceAll("(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_]*(?:Exception|Error): ", "").strip();
    }
}
