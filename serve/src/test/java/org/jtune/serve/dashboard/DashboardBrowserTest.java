package org.jtune.serve.dashboard;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Gate;
import org.jtune.serve.monitor.MonitorThresholds;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.serve.monitor.RequestLogFixture;
import org.jtune.serve.registry.FakeRun;
import org.jtune.serve.registry.Promotion;
import org.jtune.serve.registry.Registry;
import org.jtune.serve.registry.RunFolder;
import org.jtune.serve.registry.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real headless browser (Debian's chromium): a registry with two versions (one
 * promoted through its gate), a request log and a drift report made by the test; the page is loaded
 * over HTTP, its DOM checked for the data of each panel, and a screenshot kept at
 * target/dashboard-screenshot.png. Skips, saying so, when chromium is not installed.
 */
class DashboardBrowserTest {

    static Path chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(c))) return Path.of(c);
        }
        return null;
    }

    static String browse(Path chromium, Path profile, String url, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile));
        cmd.addAll(List.of(extra));
        cmd.add(url);
        Path out = Files.createTempFile(profile.getParent(), "chromium", ".out"), err = Files.createTempFile(profile.getParent(), "chromium", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 90 s: " + Files.readString(err));
        }
        assertEquals(0, p.exitValue(), Files.readString(err));
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    @Test
    void pageShowsRegistryTrafficDriftAndFeedbackInChromium(@TempDir Path dir) throws Exception {
        Path chromium = chromium();
        assumeTrue(chromium != null, "SKIPPED: chromium is not installed (apt-get install -y chromium); the dashboard browser test needs it");

        Registry reg = Registry.open(dir.resolve("reg/registry.db").toString(), null);
        reg.register(RunFolder.read(FakeRun.run(dir, "first", 0.6, 0.001), null), new Registry.Registration("tickets", null, "alice"));
        reg.register(RunFolder.read(FakeRun.run(dir, "second", 0.9, 0.002), null), new Registry.Registration("tickets", null, "bob"));
        Path gate = Files.writeString(dir.resolve("gate.yaml"), "- accuracy.delta >= 0\n");
        new Promotion(Gate.load(gate), dir.resolve("data/test.jsonl"), new EvalSettings(List.of(FakeRun.LABELS), false, List.of()),
                Task.CLASSIFICATION, FakeRun.PREDICTOR, 50, 1).run(reg, "tickets", 2, Stage.PRODUCTION, false, "better routing", "bob");

        Path log = dir.resolve("log.db");
        try (RequestLogFixture f = new RequestLogFixture(log)) {
            String last = null;
            for (int i = 0; i < 40; i++) last = f.chat("Route.", "ticket " + i, "billing", 20.0 + i, i % 13 == 0 ? 500 : 200, "tickets:2", null);
            f.feedback(last, -1.0, "hardware <script>alert(1)</script>");
        }
        Path drift = Files.writeString(dir.resolve("drift.json"), """
                {"kind":"drift","reference":"train.jsonl","reference_prompts":400,"traffic_prompts":150,"tokens":"tokenizer of stories260K",
                 "judged":true,"length":{"reference":{"mean":18.5,"p95":25},"traffic":{"mean":61.2,"p95":80},"psi":3.1},
                 "labels":{"validation":{"billing":30,"network":30},"predicted":{"billing":10,"(other)":90}},
                 "checks":[{"name":"length_psi","scope":"prompts","value":3.1,"threshold":0.25,"alert_when":"above","alert":true},
                           {"name":"embedding_mmd_p","scope":"prompts","value":0.004975,"threshold":0.01,"alert_when":"below","alert":true}],
                 "alert":true}
                """);
        try (DashboardServer server = DashboardServer.start("127.0.0.1", 0, new DashboardServer.Sources(reg, RequestLog.open(log.toString()),
                Duration.ofDays(1), MonitorThresholds.DEFAULTS, List.of(drift)))) {
            String url = "http://127.0.0.1:" + server.port() + "/";
            Path profile = dir.resolve("profile");
            String dom = browse(chromium, profile, url, "--dump-dom");

            assertTrue(dom.contains("jtune dashboard"), dom);
            assertFalse(dom.contains("class=\"problem\""), "every source read: " + dom);
            // versions side by side, with lineage and metrics
            assertTrue(dom.contains(">tickets:1<") && dom.contains(">tickets:2<"), "both versions");
            assertTrue(dom.contains("<span class=\"badge production\">production</span>"));
            assertTrue(dom.contains("recipe.learning_rate") && dom.contains(">0.002<"), "the recipe key that differs");
            assertTrue(dom.contains("better routing"), "the audit log's reason");
            // traffic: 40 requests, 4 errors, 24 bars and two latency lines
            assertTrue(dom.contains("<td>tickets:2|-</td><td>40</td>"), "traffic row");
            assertTrue(dom.contains("10.0%"), "error rate 4/40");
            Matcher svg = Pattern.compile("<svg id=\"chart-requests\".*?</svg>", Pattern.DOTALL).matcher(dom);
            assertTrue(svg.find(), "requests chart");
            assertEquals(24, svg.group().split("<rect ", -1).length - 1);
            assertTrue(dom.contains("<path class=\"p95\""), "latency chart");
            // drift panel and feedback queue (text escaped, never markup)
            assertTrue(dom.contains("ALERT — 150 prompts vs 400 reference prompts"), "drift panel");
            assertTrue(dom.contains("embedding_mmd_p"));
            assertTrue(dom.contains("hardware &lt;script&gt;alert(1)&lt;/script&gt;"), "feedback correction shown as text");
            assertFalse(dom.contains("<script"), "no script element on the page");

            Path shot = Path.of("target", "dashboard-screenshot.png").toAbsolutePath();
            Files.createDirectories(shot.getParent());
            Files.deleteIfExists(shot);
            browse(chromium, profile, url, "--screenshot=" + shot, "--window-size=1280,2600", "--hide-scrollbars");
            assertTrue(Files.size(shot) > 10_000, "screenshot written: " + shot);
            byte[] png = Files.readAllBytes(shot);
            assertEquals((byte) 0x89, png[0]);
            assertEquals('P', png[1]);
        }
    }
}
