package org.jtune.models.tokenizer;

/**
 * The character classes Hugging Face tokenizers use in Rust, where Java's built-ins differ:
 * {@code \s} is the Unicode White_Space property (Java's Character.isWhitespace leaves out U+00A0
 * and includes U+001C..U+001F), and {@code \w} is Alphabetic, marks, decimal digits, connector
 * punctuation and the joiners.
 */
final class UnicodeClasses {
    private UnicodeClasses() {}

    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    static boolean isWordCharacter(int cp) {
        if (Character.isAlphabetic(cp) || cp == 0x200C || cp == 0x200D) return true;
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> false;
        };
    }
}
