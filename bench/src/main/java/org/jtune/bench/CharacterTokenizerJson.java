package org.jtune.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A minimal, valid Hugging Face tokenizer.json for a benchmark model with random weights: a BPE model
 * without merges whose vocabulary is {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte-fallback
 * tokens {@code <0x00>}..{@code <0xFF>}, one token per ASCII letter and digit, and filler tokens
 * {@code <extra_N>} up to the model's vocabulary size. No normalizer or pre-tokenizer: a text of
 * letters and digits encodes to exactly one token per character (no concatenation of two to four of
 * them is in the vocabulary, so Jlama's vocabulary-driven merging finds nothing to merge either). The
 * benchmark's peer tokenizes text, so this lets it read a prompt of a chosen length.
 */
final class CharacterTokenizerJson {
    /** The characters that have a token of their own. */
    static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final int SPECIALS = 3, BYTES = 256;

    private CharacterTokenizerJson() {}

    /** Writes {@code dir/tokenizer.json} for a vocabulary of {@code vocabSize} ids. */
    static void write(Path dir, int vocabSize) throws IOException {
        int needed = SPECIALS + BYTES + ALPHABET.length();
        if (vocabSize < needed) throw new IllegalArgumentException("vocabulary of " + vocabSize + " < " + needed + " tokens this tokenizer needs");
        StringBuilder vocab = new StringBuilder();
        String[] specials = {"<unk>", "<s>", "</s>"};
        int id = 0;
        for (String s : specials) entry(vocab, s, id++);
        for (int b = 0; b < BYTES; b++) entry(vocab, String.format("<0x%02X>", b), id++);
        for (char c : ALPHABET.toCharArray()) entry(vocab, String.valueOf(c), id++);
        while (id < vocabSize) entry(vocab, "<extra_" + id + ">", id++);
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < specials.length; i++) {
            if (i > 0) added.append(',');
            added.append("{\"id\":").append(i).append(",\"content\":\"").append(specials[i])
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        String json = """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[%s],"normalizer":null,"pre_tokenizer":null,\
                "post_processor":null,"decoder":null,"model":{"type":"BPE","dropout":null,"unk_token":"<unk>",\
                "continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":true,\
                "vocab":{%s},"merges":[]}}
                """.formatted(added, vocab);
        Files.writeString(dir.resolve("tokenizer.json"), json, StandardCharsets.UTF_8);
    }

    private static void entry(StringBuilder sb, String token, int id) {
        if (!sb.isEmpty()) sb.append(',');
        sb.append('"').append(token).append("\":").append(id);
    }
}
