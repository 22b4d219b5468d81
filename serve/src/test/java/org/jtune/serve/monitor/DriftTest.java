package org.jtune.serve.monitor;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift on request logs the test writes with the server's schema: traffic drawn from the training
 * prompts raises no alert, traffic unlike them (log lines, SQL, German and Chinese text) is flagged by
 * length, unseen tokens, out-of-vocabulary pieces, the model's hidden states and the predicted labels.
 * With stories260K (../shared) the real tokenizer and model are used; without a model, whitespace words.
 */
class DriftTest {
    static final String[] LABELS = {"story", "question", "poem"};
    static final String[] NAMES = {"Lily", "Tom", "Ben", "Sue", "Max", "Mia"};
    static final String[] ANIMALS = {"cat", "dog", "bird", "frog", "bunny"};
    static final String[] PLACES = {"park", "garden", "forest", "house", "pond"};
    static final String[] VERBS = {"play", "run", "jump", "sing", "dance"};

    /** TinyStories-like prompts, as in the training file. */
    static String story(SplittableRandom r) {
        String n = NAMES[r.nextInt(NAMES.length)], a = ANIMALS[r.nextInt(ANIMALS.length)], p = PLACES[r.nextInt(PLACES.length)];
        String v = VERBS[r.nextInt(VERBS.length)];
        return switch (r.nextInt(3)) {
            case 0 -> "Once upon a time, there was a little " + a + " named " + n + ". " + n + " liked to " + v + " in the " + p + ".";
            case 1 -> n + " went to the " + p + " with a " + a + ". They wanted to " + v + " all day.";
            default -> "One day, " + n + " saw a big " + a + " in the " + p + ". The " + a + " was happy and began to " + v + ".";
        };
    }

    /** Production traffic from another world. */
    static String unlike(SplittableRandom r) {
        int k = r.nextInt(1000);
        return switch (r.nextInt(4)) {
            case 0 -> "ERROR 2026-12-0" + (k % 9 + 1) + "T04:1" + (k % 10) + ":22Z [pool-3-thread-" + k + "] java.sql.SQLTransientConnectionException: "
                    + "HikariPool-1 - Connection is not available, request timed out after 30000ms (total=" + k + ", active=" + (k % 17) + ")";
            case 1 -> "SELECT o.id, SUM(l.qty * l.price) FROM orders o JOIN lines l ON l.order_id = o.id WHERE o.created > now() - interval '"
                    + k + " days' GROUP BY o.id HAVING SUM(l.qty) > " + (k % 40) + ";";
            case 2 -> "Der Drucker im " + (k % 5 + 1) + ". Stock druckt seit gestern nur leere Seiten, Ticketnummer " + k
                    + ". Können Sie bitte jemanden schicken? Grüße aus der Buchhaltung";
            default -> "服务器" + k + "号无法连接数据库，请尽快处理。错误代码：E" + (k % 97) + "，影响所有用户的登录。";
        };
    }

    static Path reference(Path dir, SplittableRandom r, List<String> prompts) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            String s = story(r);
            prompts.add(s);
            sb.append("{\"messages\":[{\"role\":\"system\",\"content\":\"Write.\"},{\"role\":\"user\",\"content\":").append(RequestLogFixture.q(s))
                    .append("},{\"role\":\"assistant\",\"content\":\"").append(LABELS[i % 3]).append("\"}]}\n");
        }
        return Files.writeString(dir.resolve("train.jsonl"), sb);
    }

    static Path validation(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 90; i++) {
            sb.append("{\"messages\":[{\"role\":\"user\",\"content\":\"v").append(i).append("\"},{\"role\":\"assistant\",\"content\":\"")
                    .append(LABELS[i % 3]).append("\"}]}\n");
        }
        return Files.writeString(dir.resolve("validation.jsonl"), sb);
    }

    record Logs(Path fromTraining, Path unlike) {}

    /** Two logs of 150 requests: prompts drawn from the training prompts with labels like validation's, and unlike prompts with skewed outputs. */
    static Logs logs(Path dir, List<String> trainingPrompts, SplittableRandom r) throws Exception {
        Path a = dir.resolve("same.db"), b = dir.resolve("unlike.db");
        try (RequestLogFixture same = new RequestLogFixture(a); RequestLogFixture other = new RequestLogFixture(b)) {
            for (int i = 0; i < 150; i++) {
                same.chat("Write.", trainingPrompts.get(r.nextInt(trainingPrompts.size())), LABELS[r.nextInt(3)], 50.0, 200, "t:1", null);
                String out = i % 3 == 0 ? "story" : i % 3 == 1 ? "I do not understand" : "error";
                other.chat("Write.", unlike(r), out, 50.0, 200, "t:1", null);
            }
            same.chat(null, "failed requests are left out", null, null, 500, "t:1", null);
        }
        return new Logs(a, b);
    }

    static Map<String, Boolean> alerts(DriftReport r) {
        return r.checks().stream().collect(Collectors.toMap(Check::name, Check::alert));
    }

    @Test
    void flagsUnlikeTrafficAndNotTrafficFromTheTrainingDataWithTheModel(@TempDir Path dir) throws Exception {
        Path model = SharedData.require("models/stories260K");
        SplittableRandom r = new SplittableRandom(3);
        List<String> prompts = new ArrayList<>();
        DriftReference ref = DriftReference.read(List.of(reference(dir, r, prompts)), validation(dir));
        Logs logs = logs(dir, prompts, r);
        TokenView tokens = TokenView.of(Tokenizer.load(model), "stories260K");
        try (HiddenStateEmbedder embedder = HiddenStateEmbedder.load(model, null)) {
            DriftReport same = DriftReport.compute(ref, RequestLog.open(logs.fromTraining().toString()).requests(RequestLog.Window.all()), tokens,
                    embedder, MonitorThresholds.DEFAULTS, DriftReport.Options.DEFAULTS);
            assertFalse(same.alert(), same.json().toPrettyString());
            assertEquals(150, same.json().get("traffic_prompts").asInt(), "the failed request is left out");
            assertEquals(0.0, same.json().get("token_coverage").get("unseen_token_rate").asDouble());
            assertTrue(same.json().get("embedding").get("mmd_p_value").asDouble() > 0.05, same.json().get("embedding").toString());

            DriftReport other = DriftReport.compute(ref, RequestLog.open(logs.unlike().toString()).requests(RequestLog.Window.all()), tokens,
                    embedder, MonitorThresholds.DEFAULTS, DriftReport.Options.DEFAULTS);
            assertTrue(other.alert());
            Map<String, Boolean> a = alerts(other);
            for (String check : List.of("length_psi", "length_ks_p", "unseen_token_rate", "oov_rate", "embedding_mmd_p", "centroid_shift",
                    "label_chi2_p", "label_psi")) {
                assertTrue(a.get(check), check + " flags unlike traffic: " + other.json().toPrettyString());
            }
            assertTrue(other.json().get("token_coverage").get("oov_rate").asDouble() > 0.05, "Chinese and umlauts fall back to bytes in a 512-token vocabulary");
            assertEquals(1.0 / 201, other.json().get("embedding").get("mmd_p_value").asDouble(), 1e-12);
        }
    }

    @Test
    void withoutAModelWordsStillSeparateTheTwo(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(4);
        List<String> prompts = new ArrayList<>();
        DriftReference ref = DriftReference.read(List.of(reference(dir, r, prompts)), validation(dir));
        Logs logs = logs(dir, prompts, r);
        DriftReport same = DriftReport.compute(ref, RequestLog.open(logs.fromTraining().toString()).requests(RequestLog.Window.all()),
                TokenView.words(), null, MonitorThresholds.DEFAULTS, DriftReport.Options.DEFAULTS);
        assertFalse(same.alert(), same.json().toPrettyString());
        assertFalse(same.json().has("embedding"));
        assertTrue(same.json().get("token_coverage").get("oov_rate").isNull(), "no vocabulary without a tokenizer");
        DriftReport other = DriftReport.compute(ref, RequestLog.open(logs.unlike().toString()).requests(RequestLog.Window.all()),
                TokenView.words(), null, MonitorThresholds.DEFAULTS, DriftReport.Options.DEFAULTS);
        Map<String, Boolean> a = alerts(other);
        for (String check : List.of("length_psi", "length_ks_p", "unseen_token_rate", "label_chi2_p")) assertTrue(a.get(check), check);
        assertFalse(a.get("oov_rate"));
        // fewer prompts than min_drift_samples: no verdict
        DriftReport few = DriftReport.compute(ref, RequestLog.open(logs.unlike().toString()).requests(RequestLog.Window.all()).subList(0, 10),
                TokenView.words(), null, MonitorThresholds.DEFAULTS, DriftReport.Options.DEFAULTS);
        assertFalse(few.alert());
        assertFalse(few.json().get("judged").asBoolean());
    }
}
