package org.jtune.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "decoder" of tokenizer.json: turns the token strings of an id sequence back into text, as a chain
 * of steps over the list of strings (Llama 2: Replace "▁" → " ", ByteFallback, Fuse, Strip one leading
 * space; GPT-2: ByteLevel). The final strings are concatenated.
 */
sealed interface Decoder {
    List<String> decode(List<String> tokens);

    /** Replaces a literal string or a regular expression in each token. */
    record Replace(Pattern pattern, String literal, String content) implements Decoder {
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                out.add(pattern == null ? t.replace(literal, content) : pattern.matcher(t).replaceAll(Matcher.quoteReplacement(content)));
            }
            return out;
        }
    }

    /**
     * Runs of {@code <0xXX>} tokens become the text their bytes spell; a run that is not valid UTF-8 becomes
     * one U+FFFD per byte.
     */
    record ByteFallback() implements Decoder {
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    bytes.write(b);
                    continue;
                }
                flush(bytes, out);
                out.add(t);
            }
            flush(bytes, out);
            return out;
        }

        static int byteOf(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
            int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
            return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
        }

        private static void flush(java.io.ByteArrayOutputStream bytes, List<String> out) {
            if (bytes.size() == 0) return;
            byte[] b = bytes.toByteArray();
            bytes.reset();
            String text = Utf8.decodeStrict(b);
            if (text != null) out.add(text);
            else for (int i = 0; i < b.length; i++) out.add("\uFFFD");
        }
    }

    /** Concatenates all tokens into one. */
    record Fuse() implements Decoder {
        public List<String> decode(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing copies of a character from each token. */
    record Strip(char content, int start, int stop) implements Decoder {
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int from = 0, to = t.length();
                while (from < Math.min(start, t.length()) && t.charAt(from) == content) from++;
                int cut = 0;
                while (cut < stop && to > from && t.charAt(to - 1) == content) {
                    to--;
                    cut++;
                }
                out.add(t.substring(from, to));
            }
            return out;
        }
    }

    /** Byte-level BPE: every alphabet character back to its byte, then UTF-8 with U+FFFD for invalid sequences. */
    record ByteLevel() implements Decoder {
        public List<String> decode(List<String> tokens) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String t : tokens) {
                byte[] out = bytesOf(t);
                bytes.write(out, 0, out.length);
            }
            return List.of(Utf8.decodeLossy(bytes.toByteArray()));
        }

        /** The bytes a token's characters stand for; a token with a character outside the table stands for its UTF-8. */
        static byte[] bytesOf(String t) {
            byte[] mapped = new byte[t.length()];
            for (int i = 0; i < t.length(); i++) {
                int b = ByteLevelAlphabet.byteOf(t.charAt(i));
                if (b < 0) return t.getBytes(StandardCharsets.UTF_8);
                mapped[i] = (byte) b;
            }
            return mapped;
        }
    }

    /** SentencePiece "▁" back to spaces; in the first token it is dropped unless the prepend scheme is never. */
    record Metaspace(char replacement, boolean dropInFirstToken) implements Decoder {
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                out.add(i == 0 && dropInFirstToken ? t.replace(String.valueOf(replacement), "") : t.replace(replacement, ' '));
            }
            return out;
        }
    }

    /**
     * The bytes one token adds to a text when it is not the text's first token (so Strip and the first-token
     * rule of Metaspace do not apply; Fuse changes nothing): what a constraint on generated text must see.
     */
    static byte[] bytesWithin(Decoder decoder, String token) {
        String t = token;
        for (Decoder step : decoder instanceof Sequence s ? s.steps() : List.of(decoder)) {
            switch (step) {
                case Replace r -> t = r.decode(List.of(t)).getFirst();
                case Metaspace m -> t = t.replace(m.replacement(), ' ');
                case ByteFallback b -> {
                    int v = ByteFallback.byteOf(t);
                    if (v >= 0) return new byte[] {(byte) v};
                }
                case ByteLevel b -> {
                    return ByteLevel.bytesOf(t);
                }
                case Sequence nested -> {
                    return bytesWithin(nested, t);
                }
                case Fuse f -> {}
                case Strip s -> {}
            }
        }
        return t.getBytes(StandardCharsets.UTF_8);
    }

    record Sequence(List<Decoder> steps) implements Decoder {
        public List<String> decode(List<String> tokens) {
            for (Decoder step : steps) tokens = step.decode(tokens);
            return tokens;
        }
    }
}
