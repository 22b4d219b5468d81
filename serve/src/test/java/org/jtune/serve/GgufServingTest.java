package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.gguf.HfToGguf;
import org.jtune.quant.GgmlType;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF file is served through {@link ServeLauncher} as its folder is (library users, not only `jtune serve`): the F32
 * export of stories260K answers a greedy completion with the text the Hugging Face folder gives, its model listed under
 * the given name; a file that is not GGUF is refused with its name.
 */
class GgufServingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aGgufFileAnswersAsItsFolder(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path gguf = tmp.resolve("stories260K-f32.gguf");
        HfToGguf.export(model, GgmlType.F32, gguf);
        String fromFolder = complete(config(model, tmp.resolve("a.db")));
        String fromFile = complete(config(gguf, tmp.resolve("b.db")));
        assertTrue(fromFolder.length() > 20, fromFolder);
        assertEquals(fromFolder, fromFile);
    }

    @Test
    void aFileThatIsNotGgufIsNamed(@TempDir Path tmp) throws Exception {
        Path bad = Files.writeString(tmp.resolve("broken.gguf"), "not a gguf file");
        JtuneException e = assertThrows(JtuneException.class, () -> ServeLauncher.start(config(bad, tmp.resolve("c.db"))));
        assertTrue(e.getMessage().contains("broken.gguf"), e.getMessage());
    }

    private static ServeConfig config(Path model, Path db) {
        return new ServeConfig(model, "tiny", Map.of(), null, "127.0.0.1", 0, null, 4, 16, 1 << 20, "jdbc:sqlite:" + db, 2048, 0);
    }

    /** A greedy completion of 24 tokens; checks the model is listed under its served name. */
    private static String complete(ServeConfig config) throws Exception {
        try (OpenAiServer server = ServeLauncher.start(config)) {
            String url = "http://127.0.0.1:" + server.port();
            HttpClient http = HttpClient.newHttpClient();
            JsonNode models = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("tiny", models.get("data").get(0).get("id").asText());
            String body = "{\"model\":\"tiny\",\"prompt\":\"Once upon a time\",\"max_tokens\":24,\"temperature\":0}";
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
        }
    }
}
