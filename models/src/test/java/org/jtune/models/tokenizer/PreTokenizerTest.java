package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The split semantics byte-level tokenizers rely on: \p{L}, \p{N}, contractions, whitespace lookahead. */
class PreTokenizerTest {

    private static List<String> split(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        for (int[] s : SplitBehavior.ISOLATED.split(text, p, false)) out.add(text.substring(s[0], s[1]));
        return out;
    }

    private static final Pattern GPT2 = TokenizerRegex.GPT2_PATTERN;
    private static final Pattern LLAMA3 = TokenizerRegex.compile(TokenizerRegex.LLAMA3);

    @Test
    void gpt2KeepsTheSpaceWithTheNextWordAndLeavesOneSpaceBeforeIt() {
        assertEquals(List.of("Hello", "   ", " world"), split(GPT2, "Hello    world"));
        assertEquals(List.of("Hello", " world", "  "), split(GPT2, "Hello world  "));
        assertEquals(List.of("a", "\n", " b"), split(GPT2, "a\n b"));
    }

    @Test
    void gpt2ContractionsAreLowercaseOnly() {
        assertEquals(List.of("I", "'m", " sure", " it", "'s"), split(GPT2, "I'm sure it's"));
        assertEquals(List.of("I", "'", "M"), split(GPT2, "I'M"));
    }

    @Test
    void lettersAndNumbersAreUnicodeAware() {
        assertEquals(List.of("Café", " naïve", " Привет", " 漢字", " ٣٤"), split(GPT2, "Café naïve Привет 漢字 ٣٤"));
        assertEquals(List.of("x", "\u00a0", "y"), split(GPT2, "x\u00a0y"), "no-break space is \\s, not punctuation");
    }

    @Test
    void llama3ContractionsIgnoreCaseAndNumbersGoByThree() {
        assertEquals(List.of("I", "'M", " SURE", " YOU", "'LL"), split(LLAMA3, "I'M SURE YOU'LL"));
        assertEquals(List.of("123", "456", "78"), split(LLAMA3, "12345678"));
    }

    @Test
    void llama3AttachesOnePrecedingNonLetterToAWord() {
        assertEquals(List.of("<s", ">hello", "</", "s", ">"), split(LLAMA3, "<s>hello</s>"));
        assertEquals(List.of("line", "\r\n", "next"), split(LLAMA3, "line\r\nnext"));
        assertEquals(List.of("a", "  ", " b"), split(LLAMA3, "a   b"));
    }

    @Test
    void splitBehaviours() {
        Pattern dash = Pattern.compile("-");
        String text = "a-b--c";
        assertEquals(List.of("a", "-", "b", "-", "-", "c"), pieces(SplitBehavior.ISOLATED, dash, text, false));
        assertEquals(List.of("a", "b", "c"), pieces(SplitBehavior.REMOVED, dash, text, false));
        assertEquals(List.of("a-", "b-", "-", "c"), pieces(SplitBehavior.MERGED_WITH_PREVIOUS, dash, text, false));
        assertEquals(List.of("a", "-b", "-", "-c"), pieces(SplitBehavior.MERGED_WITH_NEXT, dash, text, false));
        assertEquals(List.of("a", "-", "b", "--", "c"), pieces(SplitBehavior.CONTIGUOUS, dash, text, false));
        assertEquals(List.of("-", "-", "-"), pieces(SplitBehavior.REMOVED, dash, text, true));
    }

    private static List<String> pieces(SplitBehavior b, Pattern p, String text, boolean invert) {
        List<String> out = new ArrayList<>();
        for (int[] s : b.split(text, p, invert)) out.add(text.substring(s[0], s[1]));
        return out;
    }

    @Test
    void metaspacePrependsOnlyAtTheStartWithSchemeFirst() {
        PreTokenizer first = new PreTokenizer.Metaspace('\u2581', PreTokenizer.Metaspace.PrependScheme.FIRST, false);
        List<PreTokenizer.Word> out = new ArrayList<>();
        first.split(new PreTokenizer.Word("Hi there", true), out);
        first.split(new PreTokenizer.Word("Hi there", false), out);
        assertEquals(List.of("\u2581Hi\u2581there", "Hi\u2581there"), out.stream().map(PreTokenizer.Word::text).toList());
        PreTokenizer splitting = new PreTokenizer.Metaspace('\u2581', PreTokenizer.Metaspace.PrependScheme.ALWAYS, true);
        out.clear();
        splitting.split(new PreTokenizer.Word("Hi  there", false), out);
        assertEquals(List.of("\u2581Hi", "\u2581", "\u2581there"), out.stream().map(PreTokenizer.Word::text).toList());
    }

    @Test
    void byteLevelWritesEveryUtf8ByteAsItsAlphabetCharacter() {
        assertEquals("Ġworld", ByteLevelAlphabet.encode(" world"));
        assertEquals("ĊčĉĀ", ByteLevelAlphabet.encode("\n\r\t\u0000"));
        assertEquals("ðŁĺĢ", ByteLevelAlphabet.encode("😀"));
        assertEquals(List.of("😀 é"), new Decoder.ByteLevel().decode(List.of("ðŁĺĢ", "Ġ", "Ã©")));
    }
}
