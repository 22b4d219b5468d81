package org.jtune.models.structured;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jtune.models.generate.LogitsProcessor;
import org.junit.jupiter.api.Test;

/**
 * The token masks over a made-up vocabulary (every printable byte, multi-byte pieces such as {@code {"} and
 * {@code ":"}, words, halves of UTF-8 characters, one special end token): a mask allows exactly the tokens
 * whose bytes keep the text alive (checked token by token against the recognizer), and random sampling under
 * the mask only ever ends on documents networknt's validator accepts.
 */
class JsonConstraintTest {
    private static final byte[][] VOCAB;
    private static final int END;

    static {
        List<byte[]> v = new ArrayList<>();
        for (int b = 0x20; b < 0x7F; b++) v.add(new byte[] {(byte) b});
        for (String s : List.of("\n", "  ", "\n  ", "{\"", "\"}", "\",", "\":", "\":\"", "\"]", "[{", "}]", "},", "true", "false", "null",
                "12", "0.5", "-3", "e+", "label", "card", "billing", "refund", "urgent", "note", "name", "kids", "é", "€", "\\n", "\\u00e9",
                "cards", " true", "{\"label\":\"", "\"lab", "el\"")) {
            v.add(s.getBytes(UTF_8));
        }
        v.add(new byte[] {(byte) 0xE2, (byte) 0x82}); // the first two bytes of €
        v.add(new byte[] {(byte) 0xAC});              // and its last
        v.add(null);                                  // a special token (never allowed)
        END = v.size();
        v.add(null);                                  // the end id
        VOCAB = v.toArray(new byte[0][]);
    }

    private static final List<String> SCHEMAS = List.of(
            """
            {"type":"object","properties":{"label":{"enum":["billing","card","refund"]},"urgent":{"type":"boolean"},
             "note":{"type":["string","null"],"maxLength":8}},"required":["label","urgent"],"additionalProperties":false}""",
            """
            {"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":4}""",
            """
            {"$defs":{"node":{"type":"object","properties":{"name":{"type":"string","maxLength":6},"kids":{"type":"array","maxItems":2,
             "items":{"$ref":"#/$defs/node"}}},"required":["name"],"additionalProperties":false}},"$ref":"#/$defs/node"}""",
            """
            {"type":"object"}""");

    @Test
    void aMaskAllowsExactlyTheTokensThatKeepTheTextAlive() {
        Random rnd = new Random(3);
        for (String schema : SCHEMAS) {
            JsonConstraint c = JsonConstraint.of(JsonShape.compile(SchemaOracle.json(schema)), VOCAB, List.of(END));
            for (int run = 0; run < 20; run++) {
                JsonRecognizer state = JsonRecognizer.start(JsonShape.compile(SchemaOracle.json(schema)));
                LogitsProcessor.State s = c.start();
                for (int step = 0; step < 30; step++) {
                    JsonRecognizer current = state;
                    long[] bits = c.allowed(current);
                    List<Integer> allowed = new ArrayList<>();
                    for (int t = 0; t < VOCAB.length; t++) {
                        if (t == END) continue;
                        boolean expected = VOCAB[t] != null && current.advance(VOCAB[t]) != null;
                        boolean got = (bits[t >>> 6] & (1L << t)) != 0;
                        assertEquals(expected, got, schema + ": token " + t + " after " + step + " steps");
                        if (got) allowed.add(t);
                    }
                    boolean end = (bits[END >>> 6] & (1L << END)) != 0;
                    assertEquals(current.complete() || allowed.isEmpty(), end, schema + ": the end after " + step + " steps");
                    if (allowed.isEmpty()) break;
                    int t = allowed.get(rnd.nextInt(allowed.size()));
                    state = state.advance(VOCAB[t]);
                    s.accept(t);
                }
            }
        }
    }

    @Test
    void everyPrefixOfDocumentsWithStringsGetsExactlyTheTokensThatKeepItAlive() {
        // the masks inside strings take a shortcut (plain string content needs no walk): check them at every byte
        String bounded = "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3}}";
        for (String[] c : List.of(new String[] {"true", "{\"a\":\"x\\n\\u00e9 €\",\"b\":[\"\",\"q\"]}"},
                new String[] {"true", "[\"card\", {\"note\": \"}]\\\"\"}]"},
                new String[] {bounded, "[\"ab\",\"\\n€x\",\"\", \"abc\"]"})) {
            JsonShape shape = JsonShape.compile(SchemaOracle.json(c[0]));
            JsonConstraint constraint = JsonConstraint.of(shape, VOCAB, List.of(END));
            JsonRecognizer state = JsonRecognizer.start(shape);
            byte[] bytes = c[1].getBytes(UTF_8);
            for (int i = 0; i <= bytes.length; i++) {
                long[] bits = constraint.allowed(state);
                for (int t = 0; t < VOCAB.length; t++) {
                    if (t == END) continue;
                    boolean expected = VOCAB[t] != null && state.advance(VOCAB[t]) != null;
                    assertEquals(expected, (bits[t >>> 6] & (1L << t)) != 0, c[1] + ": token " + t + " after " + i + " bytes");
                }
                if (i < bytes.length) state = state.advance(bytes[i] & 0xFF);
            }
        }
    }

    @Test
    void randomSamplingUnderTheMaskEndsOnlyOnValidDocuments() {
        Random rnd = new Random(11);
        for (String schema : SCHEMAS) {
            JsonConstraint c = JsonConstraint.of(JsonShape.compile(SchemaOracle.json(schema)), VOCAB, List.of(END));
            int finished = 0;
            for (int run = 0; run < 150; run++) {
                LogitsProcessor.State s = c.start();
                ByteArrayOutputStream text = new ByteArrayOutputStream();
                boolean ended = false;
                for (int step = 0; step < 400 && !ended; step++) {
                    float[] logits = new float[VOCAB.length + 3]; // a model's row may be wider than the vocabulary
                    for (int t = 0; t < logits.length; t++) {
                        logits[t] = (float) rnd.nextGaussian();
                        // later on, lean towards closing what is open, as a trained model would
                        if (step > 30 && t < VOCAB.length && VOCAB[t] != null && closes(VOCAB[t])) logits[t] += 2f;
                    }
                    s.process(logits);
                    int pick = sample(logits, rnd);
                    if (pick == END) ended = true;
                    else text.writeBytes(VOCAB[pick]);
                    s.accept(pick);
                }
                if (!ended) continue;
                finished++;
                assertTrue(SchemaOracle.valid(schema, text.toByteArray()), schema + "\n ended on " + text.toString(UTF_8));
            }
            assertTrue(finished >= 100, schema + ": only " + finished + " of 150 runs ended within 400 tokens");
        }
    }

    private static boolean closes(byte[] token) {
        for (byte b : token) if (b == '"' || b == '}' || b == ']' || b == ',') return true;
        return false;
    }

    private static int sample(float[] logits, Random rnd) {
        double total = 0;
        for (float l : logits) total += Math.exp(l);
        double u = rnd.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == Float.NEGATIVE_INFINITY) continue;
            u -= Math.exp(logits[i]);
            last = i;
            if (u < 0) return i;
        }
        return last;
    }

    @Test
    void onceTheValueIsCompleteOnlyTheEndRemains() {
        JsonConstraint c = JsonConstraint.of(JsonShape.ANY_OBJECT, VOCAB, List.of(END));
        LogitsProcessor.State s = c.start();
        for (byte[] piece : List.of("{\"".getBytes(UTF_8), "name".getBytes(UTF_8), "\":".getBytes(UTF_8), "12".getBytes(UTF_8), "}".getBytes(UTF_8))) {
            int id = indexOf(piece);
            float[] logits = new float[VOCAB.length];
            s.process(logits);
            assertEquals(0f, logits[id], new String(piece, UTF_8) + " must be allowed");
            s.accept(id);
        }
        float[] logits = new float[VOCAB.length];
        s.process(logits);
        for (int t = 0; t < logits.length; t++) assertEquals(t == END ? 0f : Float.NEGATIVE_INFINITY, logits[t], "token " + t);
    }

    private static int indexOf(byte[] piece) {
        for (int t = 0; t < VOCAB.length; t++) if (VOCAB[t] != null && java.util.Arrays.equals(VOCAB[t], piece)) return t;
        throw new AssertionError("no token " + new String(piece, UTF_8));
    }

    @Test
    void theTrieHoldsEveryTokenOnceUnderItsBytes() {
        TokenTrie trie = new TokenTrie(VOCAB);
        List<Integer> seen = new ArrayList<>();
        walk(trie, 0, new ByteArrayOutputStream(), seen);
        int expected = 0;
        for (byte[] b : VOCAB) if (b != null) expected++;
        assertEquals(expected, seen.size());
        assertArrayEquals(seen.stream().distinct().mapToInt(Integer::intValue).toArray(), seen.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void walk(TokenTrie trie, int node, ByteArrayOutputStream path, List<Integer> seen) {
        for (int t = trie.tokenStart[node]; t < trie.tokenStart[node + 1]; t++) {
            assertArrayEquals(VOCAB[trie.tokens[t]], path.toByteArray());
            seen.add(trie.tokens[t]);
        }
        for (int slot = trie.first[node]; slot < trie.first[node] + trie.count[node]; slot++) {
            ByteArrayOutputStream longer = new ByteArrayOutputStream();
            longer.writeBytes(path.toByteArray());
            longer.write(trie.label[slot]);
            walk(trie, trie.child[slot], longer, seen);
        }
    }
}
