package org.jtune.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Line splitting at the byte level: terminators, chunk boundaries, limits, encodings. */
class JsonlLineReaderTest {

    private static List<JsonlLine> read(byte[] bytes, int max) throws IOException {
        List<JsonlLine> lines = new ArrayList<>();
        new JsonlLineReader(max).read(new ByteArrayInputStream(bytes), lines::add);
        return lines;
    }

    private static List<JsonlLine> read(String s, int max) throws IOException {
        return read(s.getBytes(StandardCharsets.UTF_8), max);
    }

    @Test
    void terminators() throws IOException {
        assertEquals(List.of(), read("", 100));
        assertEquals(List.of("a"), read("a", 100).stream().map(JsonlLine::text).toList());
        assertEquals(List.of("a"), read("a\n", 100).stream().map(JsonlLine::text).toList());
        assertEquals(List.of("a", ""), read("a\n\n", 100).stream().map(JsonlLine::text).toList());
        assertEquals(List.of("a", "b", "c"), read("a\r\nb\nc\r\n", 100).stream().map(JsonlLine::text).toList());
        assertEquals(List.of(1L, 2L, 3L), read("a\n\nb", 100).stream().map(JsonlLine::number).toList());
        assertTrue(read("a\n \t\n", 100).get(1).blank());
    }

    @Test
    void linesSpanningChunksAreReassembled() throws IOException {
        String longLine = "é".repeat(50_000);              // 100,000 bytes: crosses the 64 KiB read chunk
        List<JsonlLine> lines = read("x\n" + longLine + "\ny", 1 << 20);
        assertEquals(3, lines.size());
        assertEquals(longLine, lines.get(1).text());
        assertEquals(100_000, lines.get(1).byteLength());
        assertEquals("y", lines.get(2).text());
    }

    @Test
    void overLongLinesAreCountedNotKept() throws IOException {
        List<JsonlLine> lines = read("short\n" + "z".repeat(200_000) + "\nnext", 1000);
        assertFalse(lines.get(0).tooLong());
        assertTrue(lines.get(1).tooLong());
        assertNull(lines.get(1).text());
        assertEquals(200_000, lines.get(1).byteLength());
        assertEquals("next", lines.get(2).text());
        assertEquals(3, lines.get(2).number());
        assertFalse(read("z".repeat(1000), 1000).getFirst().tooLong());   // exactly at the limit is fine
    }

    @Test
    void byteOrderMarkAndInvalidUtf8() throws IOException {
        byte[] bytes = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'a', '\n', 'o', 'k', (byte) 0xC3, '\n',
                (byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'b'};
        List<JsonlLine> lines = read(bytes, 100);
        assertEquals("a", lines.get(0).text());
        assertTrue(lines.get(0).bomStripped());
        assertNull(lines.get(1).text());                  // truncated two-byte sequence
        assertEquals(2, lines.get(1).invalidUtf8Offset());
        assertEquals("b", lines.get(2).text());
        assertTrue(lines.get(2).bomStripped());
    }
}
