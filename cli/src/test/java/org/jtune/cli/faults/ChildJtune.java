package org.jtune.cli.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A `jtune` command in a child JVM (the test's own class path), so that it can be killed with
 * SIGKILL, run under a file-size limit, or run beside another one. Its stdout and stderr are
 * collected as they come; {@link #killAt} kills it when a {@link KillSchedule.Trigger} fires.
 */
final class ChildJtune implements AutoCloseable {
    /** How a child ended: its exit code (137 when killed), its output, and whether the kill came before it finished. */
    record Outcome(int exit, String out, String err, boolean killed, String trigger) {
        String lastErrLine() {
            String[] lines = err.strip().split("\n");
            return lines[lines.length - 1];
        }

        @Override
        public String toString() {
            return "exit " + exit + (killed ? " (killed at " + trigger + ")" : "") + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private final Process process;
    private final StringBuffer out = new StringBuffer(), err = new StringBuffer();
    private final Thread outReader, errReader;

    private ChildJtune(Process process) {
        this.process = process;
        this.outReader = pump(process.getInputStream(), out);
        this.errReader = pump(process.getErrorStream(), err);
    }

    /** Starts `jtune ARGS` in {@code workDir}; {@code fileSizeLimitKb} > 0 runs it under `ulimit -f` (bash). */
    static ChildJtune start(Path workDir, List<String> jvmFlags, long fileSizeLimitKb, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (fileSizeLimitKb > 0) cmd.addAll(List.of("bash", "-c", "ulimit -f " + fileSizeLimitKb + " && exec \"$@\"", "jtune-child"));
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-Xmx768m", "-Djtune.hashCache=false"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), "org.jtune.cli.Main"));
        cmd.addAll(List.of(args));
        Files.createDirectories(workDir);
        return new ChildJtune(new ProcessBuilder(cmd).directory(workDir.toFile()).start());
    }

    static ChildJtune start(Path workDir, String... args) throws IOException {
        return start(workDir, List.of(), 0, args);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    OutputStream stdin() {
        return process.getOutputStream();
    }

    String errSoFar() {
        return err.toString();
    }

    /** Waits for the child to end on its own. */
    Outcome await(long timeoutSeconds) throws Exception {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("jtune child did not finish in " + timeoutSeconds + " s:\n" + out + "\n" + err);
        }
        return outcome(false, null);
    }

    /** Kills the child (SIGKILL) when {@code trigger} fires, or lets it finish if it ends first. */
    Outcome killAt(KillSchedule.Trigger trigger, long timeoutSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        long started = System.nanoTime();
        boolean killed = false;
        while (process.isAlive() && System.nanoTime() < deadline) {
            if (trigger.fired(started)) {
                process.destroyForcibly(); // SIGKILL on Linux and macOS: no shutdown hook, no finally block runs
                killed = true;
                break;
            }
            Thread.sleep(0, 200_000);
        }
        if (!process.waitFor(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("jtune child did not finish in " + timeoutSeconds + " s:\n" + out + "\n" + err);
        }
        return outcome(killed && process.exitValue() != 0, trigger.toString());
    }

    private Outcome outcome(boolean killed, String trigger) throws InterruptedException {
        outReader.join(10_000);
        errReader.join(10_000);
        return new Outcome(process.exitValue(), out.toString(), err.toString(), killed, trigger);
    }

    private static Thread pump(InputStream in, StringBuffer into) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the child is gone
            }
        }, "jtune-child-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
