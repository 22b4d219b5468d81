package org.jtune.train.data;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The comparison key behind near-duplicate, conflict and train/validation overlap detection: text
 * that differs only in case, Unicode compatibility form, punctuation or whitespace gets the same key.
 * Steps: NFKC, lower case (root locale), every punctuation character becomes a space, whitespace runs
 * collapse to one space, ends are trimmed. "Hello,  World!" and "hello world" have the same key.
 */
public final class NormalisedText {
    private static final Pattern PUNCTUATION = Pattern.compile("\\p{P}+");
    private static final Pattern WHITESPACE = Pattern.compile("[\\s\\p{Z}]+");

    private NormalisedText() {}

    public static String of(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        s = PUNCTUATION.matcher(s).replaceAll(" ");
        return WHITESPACE.matcher(s).replaceAll(" ").strip();
    }

    /** Key of a list of messages: role and normalised content of each, in order. */
    public static List<String> of(List<Message> messages) {
        List<String> key = new ArrayList<>(messages.size());
        for (Message m : messages) key.add(m.role().wireName() + ":" + of(m.content()));
        return key;
    }
}
