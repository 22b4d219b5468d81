package org.jtune.serve.monitor;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * How drift sees a text as tokens: the model's tokenizer (ids as the model reads them, without
 * special tokens), or, without a model, lower-cased whitespace words numbered on first sight. A token
 * is out of vocabulary when the tokenizer could only write it as {@code <unk>} or as a byte-fallback
 * piece {@code <0xNN>} (SentencePiece-style vocabularies; a byte-level BPE such as GPT-2's never needs
 * either, so its rate is 0); words have no such notion (NaN).
 */
public interface TokenView {
    int[] ids(String text);

    boolean outOfVocabulary(int id);

    /** Whether OOV is defined for this view. */
    boolean knowsVocabulary();

    String name();

    static TokenView of(Tokenizer tokenizer, String name) {
        Pattern bytePiece = Pattern.compile("<0x[0-9A-Fa-f]{2}>");
        OptionalInt unk = tokenizer.idOf("<unk>");
        return new TokenView() {
            public int[] ids(String text) {
                return tokenizer.encode(text, false);
            }

            public boolean outOfVocabulary(int id) {
                if (unk.isPresent() && unk.getAsInt() == id) return true;
                String s = tokenizer.tokenString(id);
                return s == null || bytePiece.matcher(s).matches();
            }

            public boolean knowsVocabulary() {
                return true;
            }

            public String name() {
                return "tokenizer of " + name;
            }
        };
    }

    static TokenView words() {
        Map<String, Integer> ids = new HashMap<>();
        return new TokenView() {
            public synchronized int[] ids(String text) {
                String t = text.strip().toLowerCase(Locale.ROOT);
                if (t.isEmpty()) return new int[0];
                String[] w = t.split("\\s+");
                int[] out = new int[w.length];
                for (int i = 0; i < w.length; i++) out[i] = ids.computeIfAbsent(w[i], k -> ids.size());
                return out;
            }

            public boolean outOfVocabulary(int id) {
                return false;
            }

            public boolean knowsVocabulary() {
                return false;
            }

            public String name() {
                return "whitespace words (no --model)";
            }
        };
    }
}
