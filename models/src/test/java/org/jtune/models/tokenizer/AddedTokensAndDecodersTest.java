package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Added-token flags (lstrip, rstrip, single_word, normalized, special) and decoder steps, on files written here. */
class AddedTokensAndDecodersTest {

    /** A character-level tokenizer: one token per letter, "▁" and space, plus the given added tokens. */
    private static Tokenizer tokenizer(Path dir, String addedTokens, String normalizer) throws Exception {
        StringBuilder vocab = new StringBuilder("\"<unk>\": 0, \"▁\": 1, \" \": 2");
        int id = 3;
        for (char c = 'a'; c <= 'z'; c++) vocab.append(", \"").append(c).append("\": ").append(id++);
        String json = """
                {"added_tokens": [%s], "normalizer": %s, "pre_tokenizer": null, "post_processor": null,
                 "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                   {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                 "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "vocab": {%s}, "merges": []}}
                """.formatted(addedTokens, normalizer, vocab);
        Files.writeString(dir.resolve("tokenizer.json"), json);
        return Tokenizer.load(dir);
    }

    private static String token(int id, String content, String flags) {
        return "{\"id\": " + id + ", \"content\": \"" + content + "\", " + flags + "}";
    }

    @Test
    void rstripAndLstripSwallowNeighbouringWhitespace(@TempDir Path dir) throws Exception {
        Tokenizer t = tokenizer(dir, token(100, "<r>", "\"rstrip\": true, \"special\": true, \"normalized\": false") + ", "
                + token(101, "<l>", "\"lstrip\": true, \"special\": true, \"normalized\": false"), "null");
        Encoding e = t.encodeWithTokens("a <r>  b \t<l>c", false);
        assertEquals(List.of("a", " ", "<r>  ", "b", " \t<l>", "c"), e.tokens());
    }

    @Test
    void singleWordTokensOnlyMatchAloneAndNonSpecialOnesSurviveSkipSpecial(@TempDir Path dir) throws Exception {
        Tokenizer t = tokenizer(dir, token(100, "cat", "\"single_word\": true, \"special\": false, \"normalized\": false"), "null");
        assertArrayEquals(new int[] {100, 2, t.idOf("c").getAsInt(), t.idOf("a").getAsInt(), t.idOf("t").getAsInt(), t.idOf("s").getAsInt()},
                t.encode("cat cats", false));
        assertEquals("cat", t.decode(new int[] {100}, true));
    }

    @Test
    void normalizedTokensMatchTheNormalizedText(@TempDir Path dir) throws Exception {
        String lowercase = "{\"type\": \"Lowercase\"}";
        Tokenizer t = tokenizer(dir, token(100, "dog", "\"special\": false, \"normalized\": true") + ", "
                + token(101, "CAT", "\"special\": false, \"normalized\": false"), lowercase);
        assertArrayEquals(new int[] {100}, t.encode("DOG", false), "\"DOG\" lowercases to the token \"dog\"");
        assertEquals(3, t.encode("cat", false).length, "\"CAT\" is matched on the raw text only");
        assertArrayEquals(new int[] {101}, t.encode("CAT", false));
    }

    @Test
    void specialTextIsPlainInEncodePlain(@TempDir Path dir) throws Exception {
        Tokenizer t = tokenizer(dir, token(100, "<s>", "\"special\": true, \"normalized\": false"), "null");
        assertArrayEquals(new int[] {100}, t.encode("<s>", false));
        int s = t.idOf("s").getAsInt();
        assertArrayEquals(new int[] {0, s, 0}, t.encodePlain("<s>"), "'<' and '>' are unknown; the token is not matched");
        assertEquals("", t.decode(new int[] {100}, true));
    }

    @Test
    void emptyTextHasNoTokens(@TempDir Path dir) throws Exception {
        Tokenizer t = tokenizer(dir, "", "{\"type\": \"Prepend\", \"prepend\": \"▁\"}");
        assertArrayEquals(new int[0], t.encode("", true));
        assertEquals("", t.decode(new int[0], false));
    }

    @Test
    void byteFallbackDecodesValidRunsAndReplacesEachInvalidByte() {
        Decoder d = new Decoder.ByteFallback();
        assertEquals(List.of("a", "é", "b"), d.decode(List.of("a", "<0xC3>", "<0xA9>", "b")));
        assertEquals(List.of("\uFFFD", "\uFFFD", "c"), d.decode(List.of("<0xF0>", "<0x9F>", "c")));
        assertEquals(List.of("<0xZZ>"), d.decode(List.of("<0xZZ>")));
    }

    @Test
    void metaspaceDecoderDropsTheMarkerInTheFirstToken() {
        assertEquals(List.of("Hey", " friend"), new Decoder.Metaspace('\u2581', true).decode(List.of("\u2581Hey", "\u2581friend")));
        assertEquals(List.of(" Hey"), new Decoder.Metaspace('\u2581', false).decode(List.of("\u2581Hey")));
    }

    @Test
    void stripRemovesAtMostTheGivenCount() {
        assertEquals(List.of(" a ", "b"), new Decoder.Strip(' ', 1, 1).decode(List.of("  a  ", " b")));
    }
}
