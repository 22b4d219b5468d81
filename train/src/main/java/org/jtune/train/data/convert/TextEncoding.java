package org.jtune.train.data.convert;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jtune.JtuneException;

/**
 * Decodes the bytes of a source file to text and says how the encoding was chosen, in this order:
 * a byte-order mark (UTF-8 EF BB BF, UTF-16LE FF FE, UTF-16BE FE FF; the mark is removed); without
 * one, text whose bytes are mostly NUL at every other position is UTF-16 without a mark (LE when
 * the NULs are the odd bytes); otherwise strict UTF-8; and when the bytes are not valid UTF-8,
 * ISO-8859-1 (Latin-1, which maps every byte to a character), reported with the line and value of
 * the first byte that was not UTF-8 so that the user can check the accents. An explicitly named
 * charset skips detection and must decode without errors.
 */
public final class TextEncoding {
    /** The decoded text (without a byte-order mark) and how its encoding was found. */
    public record Decoded(String text, String encoding, String how) {
        /** One line for a report: "UTF-8 (byte-order mark)". */
        public String describe() {
            return encoding + " (" + how + ")";
        }
    }

    private TextEncoding() {}

    /** Detects the encoding of {@code bytes} and decodes them; {@code source} names the file in errors. */
    public static Decoded detect(byte[] bytes, String source) throws JtuneException {
        if (startsWith(bytes, 0xEF, 0xBB, 0xBF)) {
            return new Decoded(strict(bytes, 3, StandardCharsets.UTF_8, source), "UTF-8", "byte-order mark");
        }
        if (startsWith(bytes, 0xFF, 0xFE)) {
            return new Decoded(strict(bytes, 2, StandardCharsets.UTF_16LE, source), "UTF-16LE", "byte-order mark");
        }
        if (startsWith(bytes, 0xFE, 0xFF)) {
            return new Decoded(strict(bytes, 2, StandardCharsets.UTF_16BE, source), "UTF-16BE", "byte-order mark");
        }
        Charset utf16 = utf16WithoutMark(bytes);
        if (utf16 != null) {
            return new Decoded(strict(bytes, 0, utf16, source), utf16.name(), "no byte-order mark; NUL bytes at every other position");
        }
        int bad = firstInvalidUtf8(bytes);
        if (bad < 0) return new Decoded(new String(bytes, StandardCharsets.UTF_8), "UTF-8", "detected");
        return new Decoded(new String(bytes, StandardCharsets.ISO_8859_1), "ISO-8859-1",
                String.format(Locale.ROOT, "fallback: byte 0x%02X on line %d is not UTF-8; check accented letters",
                        bytes[bad] & 0xFF, lineOf(bytes, bad)));
    }

    /** Decodes with a named charset (a leading byte-order mark of a Unicode charset is dropped). */
    public static Decoded named(byte[] bytes, String charsetName, String source) throws JtuneException {
        Charset charset;
        try {
            charset = Charset.forName(charsetName);
        } catch (IllegalArgumentException e) {
            throw new JtuneException("unknown encoding \"" + charsetName + "\" (try UTF-8, UTF-16, ISO-8859-1, windows-1252)");
        }
        String text = strict(bytes, 0, charset, source);
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        return new Decoded(text, charset.name(), "given");
    }

    private static String strict(byte[] bytes, int from, Charset charset, String source) throws JtuneException {
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes, from, bytes.length - from));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new JtuneException(source + ": not valid " + charset.name() + " (" + e.getMessage()
                    + "); give the file's encoding with --encoding");
        }
    }

    /** UTF-16 without a mark: in the first 4 KiB, over 40% of the even (BE) or odd (LE) bytes are NUL and few of the others. */
    private static Charset utf16WithoutMark(byte[] bytes) {
        int n = Math.min(bytes.length, 4096) & ~1;
        if (n < 8) return null;
        int evenNul = 0;
        int oddNul = 0;
        for (int i = 0; i < n; i += 2) {
            if (bytes[i] == 0) evenNul++;
            if (bytes[i + 1] == 0) oddNul++;
        }
        int pairs = n / 2;
        if (oddNul > 0.4 * pairs && evenNul < 0.05 * pairs) return StandardCharsets.UTF_16LE;
        if (evenNul > 0.4 * pairs && oddNul < 0.05 * pairs) return StandardCharsets.UTF_16BE;
        return null;
    }

    /** The offset of the first byte that does not belong to a valid UTF-8 sequence, or -1. */
    static int firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(Math.min(bytes.length + 1, 1 << 16));
        while (true) {
            var result = decoder.decode(in, out, true);
            if (result.isError()) return in.position();
            if (result.isOverflow()) {
                out.clear();
                continue;
            }
            return decoder.flush(out).isError() ? in.position() : -1;
        }
    }

    private static long lineOf(byte[] bytes, int offset) {
        long line = 1;
        for (int i = 0; i < offset; i++) if (bytes[i] == '\n') line++;
        return line;
    }

    private static boolean startsWith(byte[] bytes, int... prefix) {
        if (bytes.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if ((bytes[i] & 0xFF) != prefix[i]) return false;
        return true;
    }
}
