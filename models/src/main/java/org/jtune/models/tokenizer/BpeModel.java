package org.jtune.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of tokenizer.json ("model": {"type": "BPE"}), and of tiktoken files converted to it:
 * a word becomes one symbol per character (or its UTF-8 bytes as {@code <0xXX>} tokens with byte
 * fallback, or the unknown token), then adjacent symbols merge, lowest merge rank first and leftmost
 * among equals, until no adjacent pair has a rule — Hugging Face's algorithm, on a linked list of symbols
 * with a priority queue of candidate merges (O(n log n) per word). Results are cached per word.
 *
 * <p>SentencePiece-style vocabularies never merge across the start of a "▁"-prefixed piece; when the
 * vocabulary proves that (no token has a "▁" preceded by another character) a long word is cut before
 * each such "▁" and the pieces are merged and cached separately, with the same result.
 * Immutable apart from the cache; safe to share between threads.
 */
final class BpeModel {
    private static final int CACHE_CAPACITY = 100_000;
    private static final int CACHE_MAX_WORD = 128;
    private static final char METASPACE = '\u2581';

    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final MergeTable merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final String prefix;
    private final String suffix;
    /** id of the {@code <0xXX>} token of each byte, or null without byte fallback. */
    private final int[] byteTokens;
    /** id of each single-character BMP token (-1 when absent); only used without prefix/suffix. */
    private final int[] charIds;
    private final Map<Integer, Integer> supplementaryIds = new HashMap<>();
    private final boolean cutAtMetaspace;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param idToToken token string of each id (null where the id is unused)
     * @param unkToken  the unknown token, or null to drop characters the vocabulary lacks
     * @param prefix    continuing_subword_prefix, or "" for none
     * @param suffix    end_of_word_suffix, or "" for none
     */
    BpeModel(String[] idToToken, Map<String, Integer> tokenToId, MergeTable merges, String unkToken, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, String prefix, String suffix) {
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.merges = merges;
        this.unkId = unkToken == null ? -1 : tokenToId.getOrDefault(unkToken, -1);
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        this.prefix = prefix == null ? "" : prefix;
        this.suffix = suffix == null ? "" : suffix;
        if (byteFallback) {
            byteTokens = new int[256];
            for (int b = 0; b < 256; b++) byteTokens[b] = tokenToId.getOrDefault(String.format("<0x%02X>", b), -1);
        } else {
            byteTokens = null;
        }
        charIds = new int[65536];
        Arrays.fill(charIds, -1);
        boolean metaspaceOnlyLeads = tokenToId.containsKey(String.valueOf(METASPACE));
        for (Map.Entry<String, Integer> e : tokenToId.entrySet()) {
            String t = e.getKey();
            int cp = t.isEmpty() ? -1 : t.codePointAt(0);
            if (cp >= 0 && Character.charCount(cp) == t.length()) {
                if (cp < 65536) charIds[cp] = e.getValue();
                else supplementaryIds.put(cp, e.getValue());
            }
            for (int i = 1; i < t.length() && metaspaceOnlyLeads; i++) {
                if (t.charAt(i) == METASPACE && t.charAt(i - 1) != METASPACE) metaspaceOnlyLeads = false;
            }
        }
        this.cutAtMetaspace = metaspaceOnlyLeads && this.prefix.isEmpty() && this.suffix.isEmpty();
    }

    int size() {
        return idToToken.length;
    }

    /** The vocabulary string of an id, or null when the id is not in the model. */
    String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    Integer id(String token) {
        return tokenToId.get(token);
    }

    /** Appends the ids (and, when tokens is not null, the token strings) of one pre-tokenized word. */
    void tokenize(String word, IntArrayBuilder ids, List<String> tokens) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer whole = tokenToId.get(word);
            if (whole != null) {
                emit(new int[] {whole}, ids, tokens);
                return;
            }
        }
        if (!cutAtMetaspace) {
            emit(cached(word), ids, tokens);
            return;
        }
        int start = 0;
        for (int i = 1; i < word.length(); i++) {
            if (word.charAt(i) == METASPACE && word.charAt(i - 1) != METASPACE) {
                emit(cached(word.substring(start, i)), ids, tokens);
                start = i;
            }
        }
        emit(cached(start == 0 ? word : word.substring(start)), ids, tokens);
    }

    private void emit(int[] pieceIds, IntArrayBuilder ids, List<String> tokens) {
        ids.addAll(pieceIds);
        if (tokens != null) for (int id : pieceIds) tokens.add(idToToken[id]);
    }

    private int[] cached(String word) {
        int[] ids = cache.get(word);
        if (ids != null) return ids;
        ids = merge(word);
        if (word.length() <= CACHE_MAX_WORD && cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        return ids;
    }

    /** Hugging Face BPE on one word: initial symbols, then merges by rank. */
    int[] merge(String word) {
        IntArrayBuilder symbols = initialSymbols(word);
        int n = symbols.size();
        if (n < 2) return symbols.toArray();
        int[] id = symbols.toArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        MergeQueue queue = new MergeQueue();
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n) {
                long rule = merges.get(id[i], id[i + 1]);
                if (rule >= 0) queue.push(MergeTable.rank(rule), i);
            }
        }
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int pos = MergeQueue.position(top);
            if (removed[pos] || next[pos] < 0) continue;
            int right = next[pos];
            long rule = merges.get(id[pos], id[right]);
            // A stale entry: the symbols at pos changed since it was queued.
            if (rule < 0 || MergeTable.rank(rule) != MergeQueue.rank(top)) continue;
            id[pos] = MergeTable.mergedId(rule);
            removed[right] = true;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) {
                long left = merges.get(id[prev[pos]], id[pos]);
                if (left >= 0) queue.push(MergeTable.rank(left), prev[pos]);
            }
            if (next[pos] >= 0) {
                long after = merges.get(id[pos], id[next[pos]]);
                if (after >= 0) queue.push(MergeTable.rank(after), pos);
            }
        }
        IntArrayBuilder out = new IntArrayBuilder(n);
        for (int i = 0; i >= 0; i = next[i]) out.add(id[i]);
        return out.toArray();
    }

    /** One symbol per character; byte-fallback tokens or the (fused) unknown token where the vocabulary lacks it. */
    private IntArrayBuilder initialSymbols(String word) {
        IntArrayBuilder symbols = new IntArrayBuilder(word.length());
        boolean plain = prefix.isEmpty() && suffix.isEmpty();
        int pendingUnk = 0;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int end = i + Character.charCount(cp);
            int id;
            String text = null;
            if (plain) {
                id = cp < 65536 ? charIds[cp] : supplementaryIds.getOrDefault(cp, -1);
            } else {
                text = (i > 0 ? prefix : "") + word.substring(i, end) + (end == word.length() ? suffix : "");
                id = tokenToId.getOrDefault(text, -1);
            }
            i = end;
            if (id >= 0) {
                if (pendingUnk > 0) symbols.add(unkId);
                pendingUnk = 0;
                symbols.add(id);
                continue;
            }
            if (byteTokens != null && addBytes(text != null ? text : new String(Character.toChars(cp)), symbols, pendingUnk)) {
                pendingUnk = 0;
                continue;
            }
            if (unkId >= 0) {
                if (pendingUnk > 0 && !fuseUnk) symbols.add(unkId);
                pendingUnk = 1;
            }
        }
        if (pendingUnk > 0) symbols.add(unkId);
        return symbols;
    }

    private boolean addBytes(String text, IntArrayBuilder symbols, int pendingUnk) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) if (byteTokens[b & 0xFF] < 0) return false;
        if (pendingUnk > 0) symbols.add(unkId);
        for (byte b : bytes) symbols.add(byteTokens[b & 0xFF]);
        return true;
    }
}
