package org.jtune.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a JSONL file into lines at the byte level, so that every defect can be pinned to a line
 * number: a line longer than {@code maxLineBytes} is counted but not kept (memory stays bounded
 * whatever the file holds), bytes that are not UTF-8 are reported with their offset, a UTF-8
 * byte-order mark is stripped and flagged, and CRLF endings are accepted. A final line without a
 * terminating newline is still a line; the empty string after a final newline is not.
 */
public final class JsonlLineReader {
    /** Default limit: 8 MiB per line, far above any sane training example. */
    public static final int DEFAULT_MAX_LINE_BYTES = 8 << 20;

    private static final int CHUNK = 1 << 16;

    private final int maxLineBytes;

    public JsonlLineReader(int maxLineBytes) {
        if (maxLineBytes < 1) throw new IllegalArgumentException("maxLineBytes must be >= 1, got " + maxLineBytes);
        this.maxLineBytes = maxLineBytes;
    }

    public void read(Path file, Consumer<JsonlLine> sink) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            read(in, sink);
        }
    }

    public void read(InputStream in, Consumer<JsonlLine> sink) throws IOException {
        byte[] chunk = new byte[CHUNK];
        byte[] line = new byte[256];
        int kept = 0;        // bytes of the current line held in `line`
        long length = 0;     // bytes of the current line seen so far
        long number = 1;
        boolean pending = false;   // the current line has at least started
        int n;
        while ((n = in.read(chunk)) > 0) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (chunk[i] != '\n') continue;
                int take = i - start;
                if (length + take <= maxLineBytes) {
                    line = ensure(line, kept + take);
                    System.arraycopy(chunk, start, line, kept, take);
                    kept += take;
                }
                length += take;
                sink.accept(finish(number++, line, kept, length));
                kept = 0;
                length = 0;
                pending = false;
                start = i + 1;
            }
            int take = n - start;
            if (take > 0) {
                pending = true;
                if (length + take <= maxLineBytes) {
                    line = ensure(line, kept + take);
                    System.arraycopy(chunk, start, line, kept, take);
                    kept += take;
                }
                length += take;
            }
        }
        if (pending) sink.accept(finish(number, line, kept, length));
    }

    private static byte[] ensure(byte[] buf, int size) {
        return size <= buf.length ? buf : Arrays.copyOf(buf, Math.max(size, buf.length * 2));
    }

    private JsonlLine finish(long number, byte[] bytes, int kept, long length) {
        int end = kept;
        long fullLength = length;
        if (end > 0 && bytes[end - 1] == '\r') {
            end--;
            fullLength--;
        }
        boolean bom = end >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF;
        int from = bom ? 3 : 0;
        if (fullLength > maxLineBytes) {
            return new JsonlLine(number, null, fullLength, bom, true, -1);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, from, end - from);
        CharBuffer out = CharBuffer.allocate(end - from);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) result = decoder.flush(out);
        if (result.isError()) {
            return new JsonlLine(number, null, fullLength, bom, false, in.position());
        }
        out.flip();
        return new JsonlLine(number, out.toString(), fullLength, bom, false, -1);
    }
}
