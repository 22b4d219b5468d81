package org.jtune.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jtune.JtuneException;
import org.jtune.serve.dashboard.DashboardServer;
import org.jtune.serve.monitor.MonitorThresholds;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.serve.registry.Registry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `jtune dashboard`: serves the read-only dashboard page until stopped (Ctrl-C). Exit 2 when it cannot start. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = "Serve a self-contained web page (no external files) with the registry's versions side by side, traffic and "
                + "latency charts from the request log, drift reports and the feedback queue.")
final class DashboardCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--registry", paramLabel = "DB", description = "Registry (SQLite file or jdbc:postgresql:// URL).")
    String registry;
    @Option(names = "--artifacts", paramLabel = "DIR", description = "Artifact store of a PostgreSQL registry.")
    Path artifacts;
    @Option(names = "--log-db", paramLabel = "URL", description = "The server's request log.")
    String logDb;
    @Option(names = "--drift-report", paramLabel = "FILE", description = "A report of jtune monitor drift --out FILE; repeatable.")
    List<Path> drift = new ArrayList<>();
    @Option(names = "--window", defaultValue = "24h", paramLabel = "DURATION", description = "Traffic and feedback shown: 24h, 7d, ... (default ${DEFAULT-VALUE}).")
    String window;
    @Option(names = "--thresholds", paramLabel = "FILE", description = "Thresholds for the traffic checks (as jtune monitor check).")
    Path thresholds;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
    String host;
    @Option(names = "--port", defaultValue = "8090", description = "Port (default ${DEFAULT-VALUE}).")
    int port;

    @Override
    public Integer call() throws InterruptedException {
        var err = spec.commandLine().getErr();
        try {
            if (registry == null && logDb == null && drift.isEmpty()) throw new JtuneException("give --registry DB, --log-db URL and/or --drift-report FILE");
            DashboardServer s = DashboardServer.start(host, port, new DashboardServer.Sources(registry == null ? null : Registry.open(registry, artifacts),
                    logDb == null ? null : RequestLog.open(logDb), MonitorCommand.duration(window), MonitorThresholds.load(thresholds), drift));
            err.println("dashboard on http://" + host + ":" + s.port() + "/ (Ctrl-C to stop)");
            err.flush();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                s.close();
                stop.countDown();
            }));
            stop.await();
            return 0;
        } catch (JtuneException e) {
            err.println("jtune dashboard: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
