package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The comparison key behind near-duplicate, conflict and train/validation overlap detection: text
 * that differs only in case, Unicode compatibility form, punctuation or whitespace gets the same key.
 * Steps: NFKC (skipped for pure ASCII, where it changes nothing), lower case per code point
 * ({@link Character#toLowerCase(int)}), every punctuation character (Unicode category P) counts as a
 * space, whitespace runs collapse to one space, ends are trimmed. "Hello,  World!" and "hello world"
 * have the same key. One pass, no regular expressions: it runs over every message of every example.
 */
public final class NormalisedText {
    /** Distinct system prompts remembered per {@link Keys}: datasets usually repeat one or a few. */
    private static final int SYSTEM_MEMO_LIMIT = 1024;

    private NormalisedText() {}

    public static String of(String text) {
        String s = isAscii(text) ? text : Normalizer.normalize(text, Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (isPunctuation(cp) || Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                pendingSpace = !out.isEmpty();
                continue;
            }
            if (pendingSpace) out.append(' ');
            pendingSpace = false;
            out.appendCodePoint(Character.toLowerCase(cp));
        }
        return out.toString();
    }

    /** Key of a list of messages: role and normalised content of each, in order. */
    public static List<String> of(List<Message> messages) {
        return new Keys().of(messages);
    }

    /**
     * Computes message-list keys, remembering the keys of system prompts (the same long prompt on
     * every line would otherwise be normalised again for every example).
     */
    static final class Keys {
        private final Map<String, String> systemMemo = new HashMap<>();

        List<String> of(List<Message> messages) {
            List<String> key = new ArrayList<>(messages.size());
            for (Message m : messages) {
                key.add(Role.of(m) == Role.SYSTEM ? system(m.content()) : m.role() + ":" + NormalisedText.of(m.content()));
            }
            return key;
        }

        private String system(String content) {
            String known = systemMemo.get(content);
            if (known != null) return known;
            String key = Role.SYSTEM.wireName() + ":" + NormalisedText.of(content);
            if (systemMemo.size() < SYSTEM_MEMO_LIMIT) systemMemo.put(content, key);
            return key;
        }
    }

    private static boolean isPunctuation(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) >= 0x80) return false;
        return true;
    }
}
