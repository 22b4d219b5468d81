package org.jtune.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `jtune serve` in a child JVM, as a user starts it: the CLI jar of the source checkout
 * ({@code jtune.home}/cli/target, which ./jtune builds), this JVM's flags with the young generation ./jtune gives
 * {@code serve}, {@code --port 0}; the port is
 * read from the line the server prints when it listens. Its stderr goes to a log file (shown when it
 * fails to start). {@link #close} sends SIGTERM (the server drains, writes its request log, exits).
 */
final class ServedProcess implements AutoCloseable {
    /** The young generation ./jtune gives every command but `serve`, and the one it gives `serve` (see ./jtune). */
    static final String LAUNCHER_YOUNG = "-Xmn64m", SERVE_YOUNG = "-Xmn512m";
    private static final Pattern LISTENING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/v1");

    private final Process process;
    private final Path log;
    final int port;

    private ServedProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts `jtune serve ARGS --port 0` and waits (up to 10 minutes: a large model maps in seconds) until it listens. */
    static ServedProcess start(List<String> serveArgs, Path log) throws Exception {
        String home = System.getProperty("jtune.home");
        Path cli = home == null ? null : Path.of(home, "cli", "target");
        if (cli == null || !Files.isRegularFile(cli.resolve("jtune-cli.jar")) || !Files.isDirectory(cli.resolve("lib"))) {
            throw new IllegalStateException("jtune serve is not built here (cli/target/jtune-cli.jar); run the benchmark with ./jtune bench serve");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            cmd.add(arg);
            // the launcher's young generation for training and benchmarks, followed by the one it gives `jtune serve`
            // (so that a -Xmn of the user's, which comes later, still wins)
            if (arg.equals(LAUNCHER_YOUNG)) cmd.add(SERVE_YOUNG);
        }
        cmd.add("-cp");
        cmd.add(cli.resolve("jtune-cli.jar") + java.io.File.pathSeparator + cli.resolve("lib") + java.io.File.separator + "*");
        cmd.add("org.jtune.cli.Main");
        cmd.add("serve");
        cmd.addAll(serveArgs);
        cmd.addAll(List.of("--port", "0"));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("serve-stderr").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
                 PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
                for (String line; (line = in.readLine()) != null; ) {
                    out.println(line);
                    Matcher m = LISTENING.matcher(line);
                    if (!port.isDone() && m.find()) port.complete(Integer.parseInt(m.group(1)));
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
            port.completeExceptionally(new IllegalStateException("jtune serve exited before listening"));
        });
        try {
            return new ServedProcess(p, log, port.get(10, TimeUnit.MINUTES));
        } catch (Exception e) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            String text = Files.exists(log) ? Files.readString(log) : "";
            throw new IllegalStateException("jtune serve did not start: " + e.getMessage() + "\n" + text.substring(Math.max(0, text.length() - 2000)), e);
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** SIGTERM, then wait for the drain (a minute at most); returns the exit code. */
    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
