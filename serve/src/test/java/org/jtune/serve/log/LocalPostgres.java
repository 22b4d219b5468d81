package org.jtune.serve.log;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL server for a test: initdb into a temporary folder, start it on a free
 * loopback port, stop and delete it at close. Needs Debian's postgresql package (the test skips
 * without it); as root it runs the server as the postgres user, since PostgreSQL refuses root.
 */
final class LocalPostgres implements AutoCloseable {
    private final Path bin;
    private final Path data;
    private final boolean asPostgres;
    final int port;

    private LocalPostgres(Path bin, Path data, boolean asPostgres, int port) {
        this.bin = bin;
        this.data = data;
        this.asPostgres = asPostgres;
        this.port = port;
    }

    static LocalPostgres start() throws Exception {
        Path bin = null;
        Path lib = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> versions = Files.list(lib)) {
                bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.naturalOrder()).orElse(null);
            }
        }
        assumeTrue(bin != null, "skipped: no PostgreSQL server here (apt-get install postgresql)");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) assumeTrue(run(List.of("id", "postgres"), false) == 0, "skipped: running as root and there is no postgres user");
        Path data = Files.createTempDirectory("jtune-pg");
        if (root) run(List.of("chown", "-R", "postgres", data.toString()), false);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        LocalPostgres pg = new LocalPostgres(bin, data, root, port);
        check(pg.pg(List.of(bin.resolve("initdb").toString(), "-D", data.resolve("db").toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8")), "initdb");
        check(pg.pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data.resolve("db").toString(), "-w", "-l", data.resolve("log").toString(),
                "-o", "-c listen_addresses=127.0.0.1 -p " + port + " -k " + data, "start")), "pg_ctl start");
        return pg;
    }

    String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    private int pg(List<String> command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>();
        if (asPostgres) c.addAll(List.of("runuser", "-u", "postgres", "--"));
        c.addAll(command);
        return run(c, true);
    }

    private static int run(List<String> command, boolean quiet) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private static void check(int exit, String what) {
        if (exit != 0) throw new IllegalStateException(what + " failed with exit " + exit);
    }

    @Override
    public void close() throws Exception {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", data.resolve("db").toString(), "-w", "-m", "fast", "stop"));
        try (Stream<Path> files = Files.walk(data)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
