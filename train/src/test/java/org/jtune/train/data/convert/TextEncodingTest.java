package org.jtune.train.data.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;

/** Encoding detection: byte-order marks, UTF-16 without a mark, strict UTF-8, and the Latin-1 fallback with its line. */
class TextEncodingTest {
    private static final String TEXT = "text,category\nCafé crème €5,fee\n";

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    @Test
    void utf8WithAndWithoutMark() throws Exception {
        TextEncoding.Decoded plain = TextEncoding.detect(TEXT.getBytes(StandardCharsets.UTF_8), "f");
        assertEquals(TEXT, plain.text());
        assertEquals("UTF-8 (detected)", plain.describe());
        TextEncoding.Decoded bom = TextEncoding.detect(concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                TEXT.getBytes(StandardCharsets.UTF_8)), "f");
        assertEquals(TEXT, bom.text());
        assertEquals("UTF-8 (byte-order mark)", bom.describe());
    }

    @Test
    void utf16WithMarksAndWithoutOne() throws Exception {
        TextEncoding.Decoded le = TextEncoding.detect(concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, TEXT.getBytes(StandardCharsets.UTF_16LE)), "f");
        assertEquals(TEXT, le.text());
        assertEquals("UTF-16LE", le.encoding());
        TextEncoding.Decoded be = TextEncoding.detect(concat(new byte[] {(byte) 0xFE, (byte) 0xFF}, TEXT.getBytes(StandardCharsets.UTF_16BE)), "f");
        assertEquals(TEXT, be.text());
        assertEquals("UTF-16BE", be.encoding());
        TextEncoding.Decoded noMark = TextEncoding.detect(TEXT.getBytes(StandardCharsets.UTF_16LE), "f");
        assertEquals(TEXT, noMark.text());
        assertEquals("UTF-16LE", noMark.encoding());
    }

    @Test
    void invalidUtf8FallsBackToLatin1AndNamesTheLine() throws Exception {
        TextEncoding.Decoded d = TextEncoding.detect(TEXT.getBytes(StandardCharsets.ISO_8859_1), "f");
        assertEquals("ISO-8859-1", d.encoding());
        assertTrue(d.text().startsWith("text,category\nCafé crème"), d.text());
        assertTrue(d.how().contains("byte 0xE9 on line 2"), d.how());
    }

    @Test
    void aNamedEncodingMustDecodeCleanly() throws Exception {
        assertEquals(TEXT, TextEncoding.named(TEXT.getBytes(java.nio.charset.Charset.forName("ISO-8859-15")), "ISO-8859-15", "f").text());
        JtuneException e = assertThrows(JtuneException.class,
                () -> TextEncoding.named(TEXT.getBytes(StandardCharsets.ISO_8859_1), "UTF-8", "in.csv"));
        assertTrue(e.getMessage().startsWith("in.csv: not valid UTF-8"), e.getMessage());
        assertThrows(JtuneException.class, () -> TextEncoding.named(new byte[0], "no-such-charset", "f"));
    }
}
