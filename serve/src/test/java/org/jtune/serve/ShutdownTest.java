package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a serving JVM: the stream in flight completes, the process exits, and the request is in the log. */
class ShutdownTest {
    @Test
    void sigtermDrainsInFlightRequestsAndFlushesTheLog(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        String url = "jdbc:sqlite:" + tmp.resolve("requests.db");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ServeMain.class.getName(), model.toString(), url)
                .redirectError(tmp.resolve("stderr.txt").toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("port "), "server did not start: " + line);
            int port = Integer.parseInt(line.substring(5).strip());
            List<String> events = new ArrayList<>();
            try (Socket s = new Socket("127.0.0.1", port)) {
                byte[] body = "{\"model\":\"stories\",\"prompt\":\"Once upon a time\",\"max_tokens\":400,\"temperature\":0,\"stream\":true}"
                        .getBytes(StandardCharsets.UTF_8);
                OutputStream o = s.getOutputStream();
                o.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                o.write(body);
                o.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                for (String l; (l = in.readLine()) != null; ) {
                    if (!l.startsWith("data: ")) continue;
                    events.add(l);
                    if (events.size() == 3) p.destroy(); // SIGTERM while the answer streams
                    if (l.equals("data: [DONE]")) break;
                }
            }
            assertEquals("data: [DONE]", events.getLast(), "the stream in flight completes");
            assertTrue(events.size() > 3);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server exits");
        } finally {
            p.destroyForcibly();
        }
        try (var c = DriverManager.getConnection(url);
             var rs = c.createStatement().executeQuery("SELECT finish_reason, completion_tokens, status FROM requests")) {
            assertTrue(rs.next(), "the request is in the log");
            assertEquals(200, rs.getInt(3));
            assertTrue("length".equals(rs.getString(1)) || "stop".equals(rs.getString(1)), rs.getString(1));
            assertTrue(rs.getInt(2) > 3);
        }
    }
}
