package org.jtune.models.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The "pre_tokenizer" of tokenizer.json: cuts normalized text into words that the model encodes one by
 * one (GPT-2 / Llama 3 regex splits, Metaspace "▁" handling, digit splitting, ...).
 */
sealed interface PreTokenizer {

    /**
     * A piece of text on its way to the model.
     *
     * @param atStart whether it begins at offset 0 of the original input (Metaspace's prepend_scheme "first")
     */
    record Word(String text, boolean atStart) {}

    void split(Word word, List<Word> out);

    /** Byte-level BPE input: optional GPT-2 regex split, then every UTF-8 byte written as its alphabet character. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        public void split(Word word, List<Word> out) {
            String text = word.text();
            if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
            if (!useRegex) {
                out.add(new Word(ByteLevelAlphabet.encode(text), word.atStart()));
                return;
            }
            for (int[] s : SplitBehavior.ISOLATED.split(text, TokenizerRegex.GPT2_PATTERN, false)) {
                out.add(new Word(ByteLevelAlphabet.encode(text.substring(s[0], s[1])), word.atStart() && s[0] == 0));
            }
        }
    }

    /** Cuts at a regular expression or a literal string. */
    record Split(Pattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        public void split(Word word, List<Word> out) {
            String text = word.text();
            for (int[] s : behavior.split(text, pattern, invert)) {
                out.add(new Word(text.substring(s[0], s[1]), word.atStart() && s[0] == 0));
            }
        }
    }

    /** SentencePiece's whitespace: spaces become the replacement ("▁"), optionally prepended and split on. */
    record Metaspace(char replacement, PrependScheme prependScheme, boolean splitOnReplacement) implements PreTokenizer {
        public enum PrependScheme { ALWAYS, FIRST, NEVER }

        private static final Pattern METASPACE = Pattern.compile("\u2581");

        public void split(Word word, List<Word> out) {
            String text = word.text().replace(' ', replacement);
            boolean prepend = switch (prependScheme) {
                case ALWAYS -> true;
                case FIRST -> word.atStart();
                case NEVER -> false;
            };
            if (prepend && !text.isEmpty() && text.charAt(0) != replacement) text = replacement + text;
            if (!splitOnReplacement) {
                out.add(new Word(text, word.atStart()));
                return;
            }
            Pattern p = replacement == '\u2581' ? METASPACE : Pattern.compile(Pattern.quote(String.valueOf(replacement)));
            for (int[] s : SplitBehavior.MERGED_WITH_NEXT.split(text, p, false)) {
                out.add(new Word(text.substring(s[0], s[1]), word.atStart() && s[0] == 0));
            }
        }
    }

    /** Sequences of numeric characters (each one alone when individualDigits) become words of their own. */
    record Digits(boolean individualDigits) implements PreTokenizer {
        private static final Pattern ONE = Pattern.compile("\\p{N}");
        private static final Pattern RUN = Pattern.compile("\\p{N}+");

        public void split(Word word, List<Word> out) {
            new Split(individualDigits ? ONE : RUN, SplitBehavior.ISOLATED, false).split(word, out);
        }
    }

    /** Words of word characters and runs of punctuation; whitespace dropped. */
    record Whitespace() implements PreTokenizer {
        private static final Pattern WORDS = TokenizerRegex.compileTrusted("\\w+|[^\\w\\s]+");

        public void split(Word word, List<Word> out) {
            new Split(WORDS, SplitBehavior.REMOVED, true).split(word, out);
        }
    }

    /** Cuts at whitespace, which is dropped. */
    record WhitespaceSplit() implements PreTokenizer {
        private static final Pattern SPACE = TokenizerRegex.compileTrusted("\\s+");

        public void split(Word word, List<Word> out) {
            new Split(SPACE, SplitBehavior.REMOVED, false).split(word, out);
        }
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        public void split(Word word, List<Word> out) {
            List<Word> current = List.of(word);
            for (PreTokenizer step : steps) {
                List<Word> next = new ArrayList<>();
                for (Word w : current) step.split(w, next);
                current = next;
            }
            out.addAll(current);
        }
    }
}
