package org.jtune.models.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Finds added tokens in text and cuts the text around them, as Hugging Face's added vocabulary does:
 * leftmost-longest matches found left to right (a trie walked from each position whose character can
 * start a token), a single_word token discarded when a word character touches it, lstrip/rstrip
 * widening the match over neighbouring whitespace. The pieces cover the whole text in order.
 */
final class AddedTokenMatcher {

    /** A stretch of text: an added token (with the text it covers) when token is not null, plain text otherwise. */
    record Span(int start, int end, AddedToken token) {}

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private final BitSet firstChars = new BitSet(65536);
    private final boolean empty;

    /**
     * @param tokens    the tokens this matcher finds
     * @param patternOf the text each token is found as (its content, or its normalized content)
     */
    AddedTokenMatcher(List<AddedToken> tokens, UnaryOperator<String> patternOf) {
        int count = 0;
        for (AddedToken t : tokens) {
            String pattern = patternOf.apply(t.content());
            if (pattern.isEmpty()) continue;
            Node node = root;
            for (int i = 0; i < pattern.length(); i++) node = node.children.computeIfAbsent(pattern.charAt(i), c -> new Node());
            if (node.token == null) node.token = t;
            firstChars.set(pattern.charAt(0));
            count++;
        }
        empty = count == 0;
    }

    boolean isEmpty() {
        return empty;
    }

    List<Span> split(String text) {
        List<Span> out = new ArrayList<>();
        if (empty || text.isEmpty()) {
            out.add(new Span(0, text.length(), null));
            return out;
        }
        int taken = 0;
        int searchFrom = 0;
        int[] match = new int[2];
        while (true) {
            AddedToken token = find(text, searchFrom, match);
            if (token == null) break;
            int start = match[0], stop = match[1];
            searchFrom = stop;
            if (token.singleWord()) {
                boolean wordBefore = start > 0 && UnicodeClasses.isWordCharacter(text.codePointBefore(start));
                boolean wordAfter = stop < text.length() && UnicodeClasses.isWordCharacter(text.codePointAt(stop));
                if (wordBefore || wordAfter) continue;
            }
            if (token.lstrip()) {
                int s = start;
                while (s > 0 && UnicodeClasses.isWhiteSpace(text.codePointBefore(s))) s -= Character.charCount(text.codePointBefore(s));
                start = Math.max(s, taken);
            }
            if (token.rstrip()) {
                while (stop < text.length() && UnicodeClasses.isWhiteSpace(text.codePointAt(stop))) stop += Character.charCount(text.codePointAt(stop));
                searchFrom = stop;
            }
            if (taken < start) out.add(new Span(taken, start, null));
            out.add(new Span(start, stop, token));
            taken = stop;
        }
        if (taken < text.length() || out.isEmpty()) out.add(new Span(taken, text.length(), null));
        return out;
    }

    /** The leftmost-longest token at or after from; its bounds go into match. */
    private AddedToken find(String text, int from, int[] match) {
        for (int i = from; i < text.length(); i++) {
            if (!firstChars.get(text.charAt(i))) continue;
            Node node = root;
            AddedToken best = null;
            int bestEnd = -1;
            for (int j = i; j < text.length(); j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) break;
                if (node.token != null) {
                    best = node.token;
                    bestEnd = j + 1;
                }
            }
            if (best != null) {
                match[0] = i;
                match[1] = bestEnd;
                return best;
            }
        }
        return null;
    }
}
