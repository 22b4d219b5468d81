package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken or hostile tokenizer files give a JtuneException that names the file (and the key or line),
 * never a NullPointerException, an IndexOutOfBoundsException or an OutOfMemoryError.
 */
class BrokenTokenizerFilesTest {
    @TempDir
    Path dir;

    private static final String GOOD = """
            {"version": "1.0", "added_tokens": [{"id": 0, "content": "<s>", "special": true}],
             "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
             "model": {"type": "BPE", "vocab": {"<s>": 0, "a": 1, "b": 2, "ab": 3}, "merges": ["a b"]}}
            """;

    private String failureFor(String tokenizerJson) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, tokenizerJson, StandardCharsets.UTF_8);
        JtuneException e = assertThrows(JtuneException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(file.toString()), "message should name the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... words) {
        for (String w : words) assertTrue(message.contains(w), "message should mention \"" + w + "\": " + message);
    }

    @Test
    void theWellFormedFileLoads() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), GOOD);
        Tokenizer t = Tokenizer.load(dir);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {3, 1}, t.encode("aba", false));
    }

    @Test
    void truncatedJson() throws Exception {
        assertMentions(failureFor(GOOD.substring(0, GOOD.length() / 2)), "not valid JSON", "line");
    }

    @Test
    void emptyFile() throws Exception {
        failureFor("");
    }

    @Test
    void notAnObject() throws Exception {
        assertMentions(failureFor("[1, 2, 3]"), "JSON object");
    }

    @Test
    void missingModel() throws Exception {
        assertMentions(failureFor("{\"version\": \"1.0\", \"added_tokens\": []}"), "model", "missing");
    }

    @Test
    void unknownModelType() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"type\": \"BPE\"", "\"type\": \"Unigram\"")), "model.type", "Unigram", "not supported");
    }

    @Test
    void vocabIdOutOfRange() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"ab\": 3", "\"ab\": 2000000000")), "model.vocab", "out of range");
    }

    @Test
    void negativeVocabId() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"ab\": 3", "\"ab\": -4")), "out of range");
    }

    @Test
    void vocabIdNotANumber() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"ab\": 3", "\"ab\": \"three\"")), "model.vocab", "integer");
    }

    @Test
    void duplicateVocabId() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"ab\": 3", "\"ab\": 2")), "id 2");
    }

    @Test
    void addedTokenIdOutOfRange() throws Exception {
        assertMentions(failureFor(GOOD.replace("{\"id\": 0,", "{\"id\": 99999999999,")), "added_tokens[0]", "out of range");
    }

    @Test
    void mergeOfUnknownToken() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"a b\"", "\"a z\"")), "model.merges[0]", "\"z\"");
    }

    @Test
    void mergeWhoseResultIsNotInTheVocabulary() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"a b\"", "\"b a\"")), "model.merges[0]", "\"ba\"");
    }

    @Test
    void malformedMerge() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"a b\"", "\"ab\"")), "model.merges[0]");
    }

    @Test
    void unsupportedPreTokenizer() throws Exception {
        assertMentions(failureFor(GOOD.replace("\"pre_tokenizer\": null", "\"pre_tokenizer\": {\"type\": \"UnicodeScripts\"}")),
                "pre_tokenizer.type", "UnicodeScripts");
    }

    @Test
    void invalidSplitRegex() throws Exception {
        String split = "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(unclosed\"}, \"behavior\": \"Isolated\", \"invert\": false}";
        assertMentions(failureFor(GOOD.replace("\"pre_tokenizer\": null", split)), "pre_tokenizer.pattern.Regex");
    }

    @Test
    void templateNamingAnUnknownSpecialToken() throws Exception {
        String post = "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<bos>\", \"type_id\": 0}},"
                + " {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"special_tokens\": {}}";
        assertMentions(failureFor(GOOD.replace("\"post_processor\": null", post)), "post_processor.single[0]", "<bos>");
    }

    @Test
    void templateSpecialTokenIdOutOfRange() throws Exception {
        String post = "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
                + " {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [70000], \"tokens\": [\"<s>\"]}}}";
        assertMentions(failureFor(GOOD.replace("\"post_processor\": null", post)), "post_processor.special_tokens", "out of range");
    }

    @Test
    void brokenTokenizerConfigBesideAGoodTokenizer() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), GOOD);
        Path config = dir.resolve("tokenizer_config.json");
        Files.writeString(config, "{\"bos_token\": \"<s>\", ");
        JtuneException e = assertThrows(JtuneException.class, () -> Tokenizer.load(dir));
        assertMentions(e.getMessage(), config.toString(), "not valid JSON");
    }

    @Test
    void noTokenizerFiles() {
        JtuneException e = assertThrows(JtuneException.class, () -> Tokenizer.load(dir));
        assertMentions(e.getMessage(), dir.toString(), "tokenizer.json");
    }

    @Test
    void tiktokenFileWithABadLine() throws Exception {
        StringBuilder ranks = new StringBuilder();
        for (int b = 0; b < 256; b++) ranks.append(java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        ranks.append("not-base64!! 256\n");
        Path file = dir.resolve("tokenizer.model");
        Files.writeString(file, ranks);
        JtuneException e = assertThrows(JtuneException.class, () -> Tokenizer.load(dir));
        assertMentions(e.getMessage(), file + ":257");
    }

    @Test
    void sentencePieceBinaryIsNotMistakenForTiktoken() throws Exception {
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, new byte[] {0x0a, 0x0e, 0x0a, 0x05, 0x3c, 0x75, 0x6e, 0x6b, 0x3e, 0x15, 0x00, 0x00, 0x00, 0x00, 0x18, 0x02});
        JtuneException e = assertThrows(JtuneException.class, () -> Tokenizer.load(dir));
        assertMentions(e.getMessage(), file + ":1", "tiktoken");
    }
}
