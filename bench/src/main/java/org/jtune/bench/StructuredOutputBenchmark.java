package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * `jtune bench structured`: what structured output costs per generated token. For the TinyLlama (32k tokens) and
 * Llama 3 (128k) tokenizers from ../shared/hf and two schemas (README's ticket: an enum, a boolean, a string of at most
 * 40 characters; "free": the same string unbounded), a fixed answer is tokenized and fed token by token, its mask
 * computed before each: with a fresh constraint (nothing cached: what a request with a new schema pays) and again with
 * the same one (cached: a client sending the same schema every time). Median of 5 rounds after 6 of warm-up, one
 * thread; the worst token is the largest single mask of the median round. Compare with a decode step (`bench decode`).
 */
final class StructuredOutputBenchmark {
    private StructuredOutputBenchmark() {}

    private static final List<String> TOKENIZERS = List.of("tinyllama-1.1b-chat-v1.0", "llama-3-tiktoken");
    private static final String ANSWER = "{\"category\": \"card\", \"urgent\": true, \"summary\": \"Customer was charged twice for one order\"}";
    private static final String TICKET = """
            {"type":"object","properties":{"category":{"enum":["billing","card","refund"]},"urgent":{"type":"boolean"},
             "summary":{"type":"string","maxLength":40}},"required":["category","urgent","summary"],"additionalProperties":false}""";

    static int run(boolean json) throws Exception {
        Path hf = TokenizeBenchmark.sharedRoot().resolve("hf");
        ObjectMapper mapper = new ObjectMapper();
        int measured = 0;
        for (String name : TOKENIZERS) {
            Path dir = hf.resolve(name);
            if (!Files.isDirectory(dir)) {
                System.err.println("bench structured: skipping " + name + ": " + dir + " is absent (set JTUNE_SHARED to the shared folder)");
                continue;
            }
            Tokenizer tok = Tokenizer.load(dir);
            int[] answer = tok.encode(ANSWER, false);
            List<Integer> end = Arrays.stream(tok.eosIds()).boxed().toList();
            for (String schemaName : List.of("ticket", "free")) {
                JsonNode schema = mapper.readTree(schemaName.equals("ticket") ? TICKET : TICKET.replace(",\"maxLength\":40", ""));
                double[] fresh = new double[5], cached = new double[5], worst = new double[5];
                for (int round = -6; round < 5; round++) {
                    JsonConstraint c = JsonConstraint.schema(schema, tok, end);
                    double[] f = feed(c, answer, tok.vocabSize()), k = feed(c, answer, tok.vocabSize());
                    if (round < 0) continue;
                    fresh[round] = f[0];
                    worst[round] = f[1];
                    cached[round] = k[0];
                }
                double[] order = fresh.clone();
                Arrays.sort(order);
                int median = 0;
                for (int i = 0; i < 5; i++) if (fresh[i] == order[2]) median = i;
                Arrays.sort(cached);
                measured++;
                if (json) {
                    System.out.printf(java.util.Locale.ROOT, "{\"bench\":\"structured\",\"tokenizer\":\"%s\",\"vocab\":%d,\"schema\":\"%s\","
                                    + "\"tokens\":%d,\"fresh_ms_per_token\":%.4f,\"worst_token_ms\":%.3f,\"cached_ms_per_token\":%.4f,\"threads\":1}%n",
                            name, tok.vocabSize(), schemaName, answer.length, order[2], worst[median], cached[2]);
                } else {
                    System.err.printf(java.util.Locale.ROOT, "structured %-26s %6d tokens  %-6s  fresh %.3f ms/token (worst %.2f)  cached %.3f ms/token%n",
                            name, tok.vocabSize(), schemaName, order[2], worst[median], cached[2]);
                }
            }
        }
        return measured > 0 ? 0 : 1;
    }

    /** Feeds the answer through a new state of c, masking before each token: {ms per token, ms of the slowest}. */
    private static double[] feed(JsonConstraint c, int[] answer, int vocab) {
        LogitsProcessor.State s = c.start();
        float[] logits = new float[vocab];
        long total = 0, slowest = 0;
        for (int id : answer) {
            long t0 = System.nanoTime();
            s.process(logits);
            long t = System.nanoTime() - t0;
            total += t;
            slowest = Math.max(slowest, t);
            s.accept(id);
        }
        return new double[] {total / 1e6 / answer.length, slowest / 1e6};
    }
}
