package org.jtune.models.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "normalizer" of tokenizer.json: a rewrite of each stretch of text between added tokens before it is
 * pre-tokenized (Llama 2's Prepend "▁" + Replace " " → "▁", Unicode normal forms, lowercasing, ...).
 */
sealed interface Normalizer {
    String normalize(String text);

    /** Puts a prefix in front of non-empty text. */
    record Prepend(String prefix) implements Normalizer {
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    /** Replaces every match of a literal string or a regular expression. */
    record Replace(Pattern pattern, String literal, String content) implements Normalizer {
        public String normalize(String text) {
            return pattern == null ? text.replace(literal, content)
                    : pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** NFC, NFD, NFKC or NFKD. */
    record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements Normalizer {
        public String normalize(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    /** Removes leading and/or trailing Unicode whitespace. */
    record Strip(boolean left, boolean right) implements Normalizer {
        public String normalize(String text) {
            int start = 0, end = text.length();
            while (left && start < end && UnicodeClasses.isWhiteSpace(text.codePointAt(start))) start += Character.charCount(text.codePointAt(start));
            while (right && end > start && UnicodeClasses.isWhiteSpace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
            return text.substring(start, end);
        }
    }

    record Sequence(List<Normalizer> steps) implements Normalizer {
        public String normalize(String text) {
            for (Normalizer step : steps) text = step.normalize(text);
            return text;
        }
    }
}
