package org.jtune.serve.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class OutputTextTest {
    /** A byte-level "tokenizer": id = one byte; decoding replaces incomplete UTF-8 with U+FFFD, as real decoders do. */
    static final Function<int[], String> BYTES = ids -> {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return new String(b, StandardCharsets.UTF_8);
    };

    static List<String> feed(OutputText out, String text) {
        List<String> deltas = new ArrayList<>();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            String d = out.add(b & 0xff);
            if (!d.isEmpty()) deltas.add(d);
            if (out.stopped()) break;
        }
        return deltas;
    }

    @Test
    void aStopStringSplitAcrossTokensIsNeverSentNotEvenInPart() {
        OutputText out = new OutputText(BYTES, List.of("END"));
        List<String> deltas = feed(out, "abc ENx EN END tail");
        String sent = String.join("", deltas) + out.finish();
        assertEquals("abc ENx EN ", sent);
        assertTrue(out.stopped());
        assertEquals("abc ENx EN ", out.text());
        for (String d : deltas) assertFalse(d.contains("END"));
        assertEquals("abc ENx EN END".length(), out.tokens(), "tokens up to the one that completed the stop string");
    }

    @Test
    void incompleteCharactersWaitForTheirLastByte() {
        OutputText out = new OutputText(BYTES, List.of());
        List<String> deltas = feed(out, "é€😀!");
        assertEquals(List.of("é", "€", "😀", "!"), deltas, "each character is sent whole, once");
        assertEquals("", out.finish());
        assertEquals("é€😀!", out.text());
    }

    @Test
    void whatWasHeldBackIsSentAtTheEndWhenNoStopStringCame() {
        OutputText out = new OutputText(BYTES, List.of("STOP"));
        String sent = String.join("", feed(out, "one ST")) + out.finish();
        assertEquals("one ST", sent);
        assertFalse(out.stopped());
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        OutputText out = new OutputText(BYTES, List.of("xyz", "b"));
        String sent = String.join("", feed(out, "aaab xyz")) + out.finish();
        assertEquals("aaa", sent);
    }
}
