package org.jtune.models.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * A vocabulary's tokens as a prefix tree of their bytes ({@link Tokenizer#tokenBytes}), so a constraint finds
 * every token allowed from a state by walking the tree once: a byte the state refuses cuts off every token
 * that continues with it (inside a free string most of the tree is walked; at a structural byte almost none).
 * Node 0 is the root; each node's children are stored together ({@link #first}, {@link #count}) with their byte
 * and their own index, and the tokens that end at a node after it. Special tokens and empty ones are not in it.
 * Built once per tokenizer (a few hundred milliseconds for 128k tokens) and kept while the tokenizer lives.
 */
final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> BUILT = new WeakHashMap<>();

    final int vocabSize;
    final byte[][] bytes;         // per id: the token's bytes, or null (not in the tree)
    final int[] first, count;     // per node: its children's slots
    final byte[] label;           // per slot: the byte
    final int[] child;            // per slot: the child node
    final int[] tokenStart;       // per node: its tokens in tokens[tokenStart[n] .. tokenStart[n + 1])
    final int[] tokens;

    static TokenTrie of(Tokenizer tokenizer) {
        synchronized (BUILT) {
            return BUILT.computeIfAbsent(tokenizer, t -> {
                byte[][] bytes = new byte[t.vocabSize()][];
                for (int id = 0; id < bytes.length; id++) bytes[id] = t.tokenBytes(id);
                return new TokenTrie(bytes);
            });
        }
    }

    /** bytes[id]: the token's bytes, or null (left out). */
    TokenTrie(byte[][] bytes) {
        this.bytes = bytes;
        vocabSize = bytes.length;
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < bytes.length; id++) if (bytes[id] != null && bytes[id].length > 0) ids.add(id);
        ids.sort(Comparator.comparing((Integer id) -> bytes[id], Arrays::compareUnsigned).thenComparing(id -> id));
        // sorted tokens give the nodes in depth-first order: a node's children are its entries' distinct next bytes
        List<int[]> nodeTokens = new ArrayList<>();
        List<List<int[]>> nodeChildren = new ArrayList<>(); // per node: (byte, child node)
        nodeTokens.add(new int[0]);
        nodeChildren.add(new ArrayList<>());
        int[] path = new int[1];
        byte[] previous = new byte[0];
        for (int id : ids) {
            byte[] b = bytes[id];
            int common = 0;
            while (common < Math.min(previous.length, b.length) && previous[common] == b[common]) common++;
            if (path.length < b.length + 1) path = Arrays.copyOf(path, b.length + 1);
            for (int d = common; d < b.length; d++) {
                int node = nodeTokens.size();
                nodeTokens.add(new int[0]);
                nodeChildren.add(new ArrayList<>());
                nodeChildren.get(path[d]).add(new int[] {b[d] & 0xFF, node});
                path[d + 1] = node;
            }
            int end = path[b.length];
            int[] at = nodeTokens.get(end);
            at = Arrays.copyOf(at, at.length + 1);
            at[at.length - 1] = id;
            nodeTokens.set(end, at);
            previous = b;
        }
        int nodes = nodeTokens.size();
        first = new int[nodes];
        count = new int[nodes];
        tokenStart = new int[nodes + 1];
        label = new byte[nodes - 1];
        child = new int[nodes - 1];
        int slot = 0, t = 0;
        for (int n = 0; n < nodes; n++) {
            first[n] = slot;
            for (int[] c : nodeChildren.get(n)) {
                label[slot] = (byte) c[0];
                child[slot++] = c[1];
            }
            count[n] = slot - first[n];
            tokenStart[n] = t;
            t += nodeTokens.get(n).length;
        }
        tokenStart[nodes] = t;
        tokens = new int[t];
        for (int n = 0; n < nodes; n++) System.arraycopy(nodeTokens.get(n), 0, tokens, tokenStart[n], nodeTokens.get(n).length);
    }

    /**
     * The tokens split for the inside of a string: {@code chars[id]} is how many characters token id adds when it is
     * plain string content (no quote, no control byte, whole escapes and UTF-8 characters, no \\uD800–\\uDFFF
     * escape), −1 otherwise. From inside a string such a token always leaves the string open with that many more
     * characters, so it needs no walk; {@code rest} is the tree of all other tokens, which do.
     */
    record StringContent(int[] chars, TokenTrie rest) {}

    private volatile StringContent stringContent;

    StringContent stringContent() {
        StringContent sc = stringContent;
        if (sc == null) {
            int[] chars = new int[vocabSize];
            byte[][] rest = new byte[vocabSize][];
            for (int id = 0; id < vocabSize; id++) {
                chars[id] = bytes[id] == null ? -1 : plainStringContent(bytes[id]);
                if (chars[id] < 0) rest[id] = bytes[id];
            }
            stringContent = sc = new StringContent(chars, new TokenTrie(rest));
        }
        return sc;
    }

    /** The characters of a token that is plain string content, or −1. */
    private static int plainStringContent(byte[] token) {
        int lex = 0, chars = 0;
        for (byte b : token) {
            if (lex == 5 && (b == 'd' || b == 'D')) return -1; // a surrogate escape: counted strings refuse it
            int r = JsonRecognizer.StringFrame.lexNext(lex, b & 0xFF);
            if (r < 0) return -1;
            if ((r & JsonRecognizer.StringFrame.CHAR_DONE) != 0) chars++;
            lex = r & JsonRecognizer.StringFrame.STATE;
        }
        return lex == 0 ? chars : -1;
    }
}
