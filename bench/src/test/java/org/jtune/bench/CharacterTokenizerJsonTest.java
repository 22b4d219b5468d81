package org.jtune.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's own tokenizer.json is a valid Hugging Face file: our tokenizer reads it, one id per letter or digit. */
class CharacterTokenizerJsonTest {
    @TempDir
    Path dir;

    @Test
    void encodesOneTokenPerCharacter() throws Exception {
        CharacterTokenizerJson.write(dir, 1000);
        Tokenizer tok = Tokenizer.load(dir);
        String text = "abcXYZ09";
        int base = 3 + 256; // <unk> <s> </s>, then the 256 byte tokens
        int[] expected = new int[text.length()];
        for (int i = 0; i < text.length(); i++) expected[i] = base + CharacterTokenizerJson.ALPHABET.indexOf(text.charAt(i));
        assertArrayEquals(expected, tok.encode(text, false));
        String json = Files.readString(dir.resolve("tokenizer.json"));
        assertEquals(true, json.contains("\"<extra_999>\":999"), "vocabulary filled up to the model's size");
    }

    @Test
    void refusesAVocabularyTooSmallForItsTokens() {
        assertThrows(IllegalArgumentException.class, () -> CharacterTokenizerJson.write(dir, 100));
    }
}
