package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeTest {
    @Test
    void answers(@TempDir Path tmp) throws Exception {
        try (TestServer s = TestServer.start(tmp)) {
            HttpClient http = HttpClient.newHttpClient();
            for (String body : new String[] {
                    "{\"model\":\"stories\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":20,\"temperature\":0}",
                    "{\"model\":\"stories\",\"prompt\":\"Once upon a time\",\"max_tokens\":200,\"temperature\":0,\"logprobs\":2}",
                    "{\"model\":\"tuned\",\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"}) {
                String path = body.contains("messages") ? "/v1/chat/completions" : "/v1/completions";
                var r = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + path)).header("Authorization", "Bearer " + TestServer.KEY)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                System.out.println(r.statusCode() + " " + r.body());
                assertEquals(200, r.statusCode());
            }
            var m = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            System.out.println(m.body());
        }
    }
}
