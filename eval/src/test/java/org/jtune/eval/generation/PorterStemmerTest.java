package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Both modes against NLTK 3.8's PorterStemmer on ~5700 words (the paper's examples plus the vocabulary of a
 * few Python sources); the list was written by bench/peers/eval_reference.py.
 */
class PorterStemmerTest {
    @Test
    void agreesWithNltkOnWordList() throws IOException {
        PorterStemmer ext = new PorterStemmer(PorterStemmer.Mode.NLTK_EXTENSIONS);
        PorterStemmer orig = new PorterStemmer(PorterStemmer.Mode.ORIGINAL_ALGORITHM);
        int words = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("/org/jtune/eval/porter_nltk.tsv"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("#")) continue;
                String[] f = line.split("\t", -1);
                assertEquals(f[1], ext.stem(f[0]), "NLTK_EXTENSIONS stem of " + f[0]);
                assertEquals(f[2], orig.stem(f[0]), "ORIGINAL_ALGORITHM stem of " + f[0]);
                words++;
            }
        }
        assertTrue(words > 5000, "word list read: " + words);
    }

    @Test
    void paperExamplesAndModeDifferences() {
        PorterStemmer orig = new PorterStemmer(PorterStemmer.Mode.ORIGINAL_ALGORITHM);
        PorterStemmer ext = new PorterStemmer(PorterStemmer.Mode.NLTK_EXTENSIONS);
        // Porter (1980) examples
        assertEquals("caress", orig.stem("caresses"));
        assertEquals("poni", orig.stem("ponies"));
        assertEquals("motor", orig.stem("motoring"));
        assertEquals("hop", orig.stem("hopping"));
        assertEquals("file", orig.stem("filing"));
        assertEquals("relat", orig.stem("relational"));
        assertEquals("gener", orig.stem("generalization"));
        // where the modes differ: irregular forms, -ies on 4 letters, Y after a consonant, -logi, -bli
        assertEquals("die", ext.stem("dying"));
        assertEquals("dy", orig.stem("dying"));
        assertEquals("die", ext.stem("dies"));
        assertEquals("di", orig.stem("dies"));
        assertEquals("enjoy", ext.stem("enjoy"));
        assertEquals("enjoi", orig.stem("enjoy"));
    }
}
