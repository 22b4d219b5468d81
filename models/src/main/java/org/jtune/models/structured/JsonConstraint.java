package org.jtune.models.structured;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Generation that can only produce JSON of a given shape (OpenAI's {@code response_format} json_object and
 * json_schema, llama.cpp's and vLLM's JSON-schema decoding): before each token, every token whose bytes would
 * leave the shape ({@link JsonRecognizer}) is masked, and once the value is complete only the end ids remain.
 * The allowed tokens of a state come from one walk of the vocabulary's {@link TokenTrie} (inside a string, only of
 * the tokens that are not plain string content: those are allowed by a character count); masks are cached by
 * state (equal states inside a free string, or at the same place of the same object, share one), so a
 * constraint kept across requests with the same schema gets faster as it serves.
 *
 * <p>Output cut by the token limit is not complete JSON (finish reason "length"), as with those servers.
 */
public final class JsonConstraint implements LogitsProcessor {
    private static final int CACHE_LIMIT = 4096;

    private final JsonShape shape;
    private final TokenTrie trie;
    private final int[] endIds;
    private final int words;       // longs per mask: the vocabulary and every end id
    private final Map<JsonRecognizer, long[]> masks = new ConcurrentHashMap<>();

    private JsonConstraint(JsonShape shape, TokenTrie trie, List<Integer> endIds) {
        if (endIds.isEmpty()) throw new IllegalArgumentException("constrained generation needs an end id to stop at once the JSON value is complete");
        this.shape = shape;
        this.trie = trie;
        this.endIds = endIds.stream().mapToInt(Integer::intValue).toArray();
        int width = trie.vocabSize;
        for (int e : this.endIds) width = Math.max(width, e + 1);
        this.words = (width + 63) / 64;
    }

    /** JSON that follows the schema; an {@link IllegalArgumentException} names the part of it that cannot be enforced. */
    public static JsonConstraint schema(JsonNode schema, Tokenizer tokenizer, List<Integer> endIds) {
        return new JsonConstraint(JsonShape.compile(schema), TokenTrie.of(tokenizer), endIds);
    }

    /** For tests: a vocabulary given as its tokens' bytes (null = special). */
    static JsonConstraint of(JsonShape shape, byte[][] tokenBytes, List<Integer> endIds) {
        return new JsonConstraint(shape, new TokenTrie(tokenBytes), endIds);
    }

    @Override
    public State start() {
        return new JsonState(JsonRecognizer.start(shape));
    }

    /** The tokens allowed from a state, one bit each (cached). */
    long[] allowed(JsonRecognizer state) {
        long[] known = masks.get(state);
        if (known != null) return known;
        long[] bits = new long[words];
        int room = state.stringRoom();
        if (room != JsonRecognizer.NOT_IN_STRING) { // inside a string most tokens are plain content: only the others are walked
            TokenTrie.StringContent sc = trie.stringContent();
            int[] chars = sc.chars();
            for (int id = 0; id < chars.length; id++) if (chars[id] >= 0 && chars[id] <= room) bits[id >>> 6] |= 1L << id;
            walk(sc.rest(), 0, state, bits);
        } else {
            walk(trie, 0, state, bits);
        }
        for (int e : endIds) bits[e >>> 6] &= ~(1L << e); // an end id spelled as text (no special flag) is still the end
        boolean any = false;
        for (long w : bits) any |= w != 0;
        if (state.complete() || !any) for (int e : endIds) bits[e >>> 6] |= 1L << e; // nothing else: end rather than loop
        if (masks.size() >= CACHE_LIMIT) masks.clear();
        masks.put(state, bits);
        return bits;
    }

    private static void walk(TokenTrie trie, int node, JsonRecognizer state, long[] bits) {
        int[] first = trie.first, count = trie.count, child = trie.child, start = trie.tokenStart, tokens = trie.tokens;
        byte[] label = trie.label;
        for (int slot = first[node], end = slot + count[node]; slot < end; slot++) {
            JsonRecognizer next = state.advance(label[slot] & 0xFF);
            if (next == null) continue;
            int c = child[slot];
            for (int t = start[c]; t < start[c + 1]; t++) bits[tokens[t] >>> 6] |= 1L << tokens[t];
            if (trie.count[c] > 0) walk(trie, c, next, bits);
        }
    }

    private final class JsonState implements State {
        private JsonRecognizer state;
        private boolean ended;

        JsonState(JsonRecognizer state) {
            this.state = state;
        }

        @Override
        public void process(float[] logits) {
            long[] bits = ended ? endMask() : allowed(state);
            for (int i = 0; i < logits.length; i++) if (i >= words * 64 || (bits[i >>> 6] & (1L << i)) == 0) logits[i] = Float.NEGATIVE_INFINITY;
        }

        @Override
        public void accept(int token) {
            for (int e : endIds) if (e == token) ended = true;
            if (ended) return;
            JsonRecognizer next = token < trie.vocabSize && trie.bytes[token] != null ? state.advance(trie.bytes[token]) : null;
            if (next == null) throw new IllegalStateException("token " + token + " leaves the JSON shape: it was not allowed by the mask");
            state = next;
        }

        private long[] endMask() {
            long[] bits = new long[words];
            for (int e : endIds) bits[e >>> 6] |= 1L << e;
            return bits;
        }
    }
}
