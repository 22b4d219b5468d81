package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /v1/completions with echo, as lm-evaluation-harness's local-completions scores a continuation: the prompt as one token
 * array in a list, max_tokens 1, logprobs 1, echo, temperature 0; it sums token_logprobs[ctxlen:-1] and calls the
 * continuation greedy when each of those equals the largest of its top_logprobs. The prompt tokens' logprobs equal a
 * log-softmax (in double) of a full forward of the model over the prompt; the first has none (null); max_tokens 0 gives the
 * prompt alone; without logprobs the text is the prompt and the answer.
 */
class EchoLogprobsTest {
    @TempDir
    static Path tmp;
    static TestServer server;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static JsonNode post(String body) throws Exception {
        HttpResponse<String> r = server.send("/v1/completions", body, TestServer.KEY);
        JsonNode json = JSON.readTree(r.body());
        json = ((com.fasterxml.jackson.databind.node.ObjectNode) json).put("status", r.statusCode());
        return json;
    }

    /** The logits (T, vocab) of a full forward of the served model over ids. */
    static float[] logits(int[] ids) throws Exception {
        try (CausalLM m = Architectures.load(server.modelDir)) {
            return HiddenStates.logits(m, ids);
        }
    }

    /** log p(ids[t] | ids[..t]) for t ≥ 1, from a full forward, in double. */
    static double[] reference(int[] ids) throws Exception {
        float[] logits = logits(ids);
        int vocab = logits.length / ids.length;
        double[] out = new double[ids.length];
        for (int p = 1; p < ids.length; p++) {
            int row = (p - 1) * vocab;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row + v]);
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[row + v] - max);
            out[p] = logits[row + ids[p]] - max - Math.log(sum);
        }
        return out;
    }

    /** The most likely next token after position p's row. */
    static int argmax(float[] logits, int vocab, int p) {
        int arg = 0;
        for (int v = 1; v < vocab; v++) if (logits[p * vocab + v] > logits[p * vocab + arg]) arg = v;
        return arg;
    }

    @Test
    void aContinuationIsScoredAsLmEvaluationHarnessReadsIt() throws Exception {
        int[] context = server.codec.text("Once upon a time, there was a little").ids();
        int[] chosen = {server.codec.tokenizer().encode(" girl", false)[0], server.codec.tokenizer().encode(" named", false)[0]};
        int[] greedy = greedyContinuation(context, 2);
        assertTrue(score(context, greedy), "the model's own continuation is greedy");
        score(context, chosen);
    }

    /** Scores context + continuation as the harness does; checks the figures; whether the harness calls it greedy. */
    private static boolean score(int[] context, int[] continuation) throws Exception {
        int[] ids = new int[context.length + continuation.length];
        System.arraycopy(context, 0, ids, 0, context.length);
        System.arraycopy(continuation, 0, ids, context.length, continuation.length);
        JsonNode r = post("{\"model\": \"" + TestServer.BASE + "\", \"prompt\": [" + JSON.writeValueAsString(ids) + "], \"temperature\": 0, "
                + "\"max_tokens\": 1, \"logprobs\": 1, \"seed\": 1234, \"echo\": true}");
        assertEquals(200, r.get("status").asInt(), r.toString());
        JsonNode lp = r.get("choices").get(0).get("logprobs");
        JsonNode tokenLogprobs = lp.get("token_logprobs"), top = lp.get("top_logprobs");
        assertEquals(ids.length + 1, tokenLogprobs.size(), "the prompt's tokens and the one generated");
        assertTrue(tokenLogprobs.get(0).isNull() && top.get(0).isNull(), "nothing predicts the first token");
        double[] want = reference(ids);
        for (int p = 1; p < ids.length; p++) assertEquals(want[p], tokenLogprobs.get(p).asDouble(), 1e-4, "prompt token " + p);
        // lm-eval: sum(token_logprobs[ctxlen:-1]), greedy when each equals the max of its top_logprobs
        double sum = 0;
        boolean greedy = true;
        for (int p = context.length; p < ids.length; p++) {
            sum += tokenLogprobs.get(p).asDouble();
            double best = Double.NEGATIVE_INFINITY;
            for (JsonNode v : top.get(p)) best = Math.max(best, v.asDouble());
            greedy &= tokenLogprobs.get(p).asDouble() == best;
        }
        assertEquals(want[context.length] + want[context.length + 1], sum, 2e-4);
        String text = r.get("choices").get(0).get("text").asText();
        assertTrue(text.startsWith(server.codec.decode(ids)), text);
        assertEquals(1, r.get("usage").get("completion_tokens").asInt());
        assertEquals(ids.length, r.get("usage").get("prompt_tokens").asInt());
        assertEquals(greedy, greedyByModel(ids, context.length), "is_greedy as the harness computes it");
        return greedy;
    }

    @Test
    void echoWithoutLogprobsOrNewTokens() throws Exception {
        int[] ids = server.codec.text("Once upon a time, there was a little").ids();
        JsonNode alone = post("{\"model\": \"" + TestServer.BASE + "\", \"prompt\": " + JSON.writeValueAsString(ids) + ", \"max_tokens\": 0, "
                + "\"logprobs\": 0, \"echo\": true}");
        assertEquals(200, alone.get("status").asInt(), alone.toString());
        assertEquals(ids.length, alone.get("choices").get(0).get("logprobs").get("token_logprobs").size(), "max_tokens 0: the prompt alone");
        assertEquals(server.codec.decode(ids), alone.get("choices").get(0).get("text").asText());
        assertEquals(0, alone.get("usage").get("completion_tokens").asInt());
        assertEquals("length", alone.get("choices").get(0).get("finish_reason").asText());

        JsonNode plain = post("{\"model\": \"" + TestServer.BASE + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 5, \"temperature\": 0, \"echo\": true}");
        String answer = post("{\"model\": \"" + TestServer.BASE + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 5, \"temperature\": 0}")
                .get("choices").get(0).get("text").asText();
        assertEquals("Once upon a time" + answer, plain.get("choices").get(0).get("text").asText());
        assertTrue(plain.get("choices").get(0).get("logprobs").isNull());
        assertEquals(400, post("{\"model\": \"" + TestServer.BASE + "\", \"prompt\": \"x\", \"echo\": true, \"stream\": true}").get("status").asInt());
    }

    /** The model's argmax tokens after the context. */
    private static int[] greedyContinuation(int[] context, int n) throws Exception {
        int[] ids = context;
        for (int k = 0; k < n; k++) {
            float[] logits = logits(ids);
            int t = ids.length;
            ids = java.util.Arrays.copyOf(ids, t + 1);
            ids[t] = argmax(logits, logits.length / t, t - 1);
        }
        return java.util.Arrays.copyOfRange(ids, context.length, ids.length);
    }

    /** Whether each continuation token is the model's argmax after its prefix. */
    private static boolean greedyByModel(int[] ids, int from) throws Exception {
        float[] logits = logits(ids);
        int vocab = logits.length / ids.length;
        for (int p = from; p < ids.length; p++) if (argmax(logits, vocab, p - 1) != ids[p]) return false;
        return true;
    }
}
