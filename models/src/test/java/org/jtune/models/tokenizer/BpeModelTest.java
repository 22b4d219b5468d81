package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BPE merge loop and its word-level details, on small vocabularies written here. */
class BpeModelTest {

    private static BpeModel model(List<String> vocab, List<String> merges, String unk, boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i), i);
        MergeTable table = new MergeTable(merges.size());
        for (int r = 0; r < merges.size(); r++) {
            String[] p = merges.get(r).split(" ");
            table.put(ids.get(p[0]), ids.get(p[1]), r, ids.get(p[0] + p[1]));
        }
        return new BpeModel(vocab.toArray(new String[0]), ids, table, unk, fuseUnk, byteFallback, ignoreMerges, "", "");
    }

    private static int[] tokenize(BpeModel m, String word) {
        IntArrayBuilder out = new IntArrayBuilder(4);
        m.tokenize(word, out, null);
        return out.toArray();
    }

    @Test
    void lowerRankMergesFirst() {
        // "abc": "b c" has rank 0, so b+c merge before a+b could.
        BpeModel m = model(List.of("a", "b", "c", "ab", "bc"), List.of("b c", "a b"), null, false, false, false);
        assertArrayEquals(new int[] {0, 4}, tokenize(m, "abc"));
    }

    @Test
    void equalPairsMergeLeftmostFirst() {
        BpeModel m = model(List.of("a", "aa"), List.of("a a"), null, false, false, false);
        assertArrayEquals(new int[] {1, 0}, tokenize(m, "aaa"));
        assertArrayEquals(new int[] {1, 1}, tokenize(m, "aaaa"));
    }

    @Test
    void mergedSymbolsMergeAgain() {
        BpeModel m = model(List.of("a", "b", "ab", "abab"), List.of("a b", "ab ab"), null, false, false, false);
        assertArrayEquals(new int[] {3, 0}, tokenize(m, "ababa"));
    }

    @Test
    void unknownCharactersBecomeOneFusedUnknownToken() {
        BpeModel fused = model(List.of("<unk>", "a"), List.of(), "<unk>", true, false, false);
        assertArrayEquals(new int[] {1, 0, 1}, tokenize(fused, "a\u00e9\u00e8a"));
        BpeModel separate = model(List.of("<unk>", "a"), List.of(), "<unk>", false, false, false);
        assertArrayEquals(new int[] {1, 0, 0, 1}, tokenize(separate, "a\u00e9\u00e8a"));
        BpeModel dropping = model(List.of("a"), List.of(), null, false, false, false);
        assertArrayEquals(new int[] {0, 0}, tokenize(dropping, "a\u00e9a"));
    }

    @Test
    void byteFallbackSpellsMissingCharactersAsUtf8Bytes() {
        List<String> vocab = new ArrayList<>(List.of("<unk>", "a"));
        for (int b = 0; b < 256; b++) vocab.add(String.format("<0x%02X>", b));
        BpeModel m = model(vocab, List.of(), "<unk>", true, true, false);
        // "é" is C3 A9 in UTF-8; "😀" is F0 9F 98 80.
        assertArrayEquals(new int[] {1, 2 + 0xC3, 2 + 0xA9, 2 + 0xF0, 2 + 0x9F, 2 + 0x98, 2 + 0x80}, tokenize(m, "a\u00e9\ud83d\ude00"));
    }

    @Test
    void ignoreMergesTakesAWholeWordFromTheVocabulary() {
        // Merges alone would give "ab" + "c"; the vocabulary has "abc" itself.
        List<String> vocab = List.of("a", "b", "c", "ab", "abc");
        List<String> merges = List.of("a b");
        assertArrayEquals(new int[] {3, 2}, tokenize(model(vocab, merges, null, false, false, false), "abc"));
        assertArrayEquals(new int[] {4}, tokenize(model(vocab, merges, null, false, false, true), "abc"));
    }

    @Test
    void cuttingBeforeMetaspaceGivesTheSameTokensAsOneLongWord() throws Exception {
        for (String family : List.of("tinyllama-1.1b-chat-v1.0", "mistral-7b-instruct-v0.3")) {
            Path file = SharedData.require("hf/" + family + "/tokenizer.json");
            BpeModel model = TokenizerJsonReader.read(file).model();
            SplittableRandom random = new SplittableRandom(7);
            String alphabet = "abcdefghijklmnopqrstuvwxyz ▁▁▁.,'\n\té€😀ÄЖ漢1234567890";
            for (int trial = 0; trial < 300; trial++) {
                StringBuilder word = new StringBuilder("▁");
                int length = 1 + random.nextInt(60);
                for (int i = 0; i < length; i++) word.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
                String w = word.toString().replace(' ', '\u2581');
                assertArrayEquals(model.merge(w), tokenize(model, w), family + ": \"" + w + "\"");
            }
        }
    }

    @Test
    void tiktokenRanksDecideTheMergeOrder(@TempDir Path dir) throws Exception {
        // Single bytes get ranks 0..255; then "bc" (256) outranks "ab" (257); "abcd" (258) is taken whole.
        StringBuilder ranks = new StringBuilder();
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        for (int b = 0; b < 256; b++) ranks.append(b64.encodeToString(new byte[] {(byte) b})).append(' ').append(b).append('\n');
        ranks.append(b64.encodeToString("bc".getBytes())).append(" 256\n");
        ranks.append(b64.encodeToString("ab".getBytes())).append(" 257\n");
        ranks.append(b64.encodeToString("abcd".getBytes())).append(" 258\n");
        Files.writeString(dir.resolve("tokenizer.model"), ranks);
        Tokenizer t = Tokenizer.load(dir);
        assertArrayEquals(new int[] {'a', 256}, t.encode("abc", false));
        assertArrayEquals(new int[] {257, 'd'}, t.encode("abd", false));
        assertArrayEquals(new int[] {258}, t.encode("abcd", false));
        assertEquals(259, t.bosId());
        assertArrayEquals(new int[] {259, 258}, t.encode("abcd", true));
        assertArrayEquals(new int[] {259, 'a', 256}, t.encode("<|begin_of_text|>abc", false));
        assertEquals("<|begin_of_text|>abcd", t.decode(new int[] {259, 258}, false));
        assertEquals("abcd", t.decode(new int[] {259, 258}, true));
        assertEquals(259 + 256, t.vocabSize());
    }
}
