package org.jtune.models.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Regular expressions of tokenizer.json and tiktoken (written for Oniguruma / Rust regex) compiled for
 * java.util.regex. The syntax used by real tokenizers (\p{L}, \p{N}, (?i:...), lookahead, {1,3}) is the
 * same; the difference is that \s, \w and \d are Unicode-aware there, so UNICODE_CHARACTER_CLASS is set
 * (which also makes (?i) fold Unicode case).
 */
final class TokenizerRegex {
    private TokenizerRegex() {}

    /** GPT-2's split pattern, used by the ByteLevel pre-tokenizer when use_regex is true. */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Llama 3's split pattern (Meta's tiktoken tokenizer and its Hugging Face conversion). */
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static final Pattern GPT2_PATTERN = compileTrusted(GPT2);

    /** Compiles a pattern from a file; the exception's message says what Java could not parse. */
    static Pattern compile(String regex) throws PatternSyntaxException {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    static Pattern compileTrusted(String regex) {
        return compile(regex);
    }
}
