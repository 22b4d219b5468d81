package org.jtune.models.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jtune.JtuneException;

/**
 * One safetensors file opened for reading: its validated header and its data area, memory-mapped
 * read-only into a caller's arena (closing the arena unmaps it). The 8-byte header length is checked
 * against {@link #MAX_HEADER_BYTES} and the file size before anything is allocated, and the header is
 * read with plain channel reads, so a hostile file costs at most one bounded buffer and is never mapped.
 */
public record SafetensorsFile(Path path, SafetensorsHeader header, MemorySegment data) {
    /** Largest header accepted, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Opens, validates and maps {@code path} into {@code arena}. */
    public static SafetensorsFile open(Path path, Arena arena) throws JtuneException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new JtuneException(path + ": " + size + " bytes is too short for a safetensors file (8-byte header length missing)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(path, ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new JtuneException(path + ": safetensors header length " + Long.toUnsignedString(headerLen)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
            }
            if (headerLen > size - 8) {
                throw new JtuneException(path + ": safetensors header length " + headerLen + " runs past the end of the "
                        + size + "-byte file (truncated?)");
            }
            if (headerLen < 2) throw new JtuneException(path + ": safetensors header of " + headerLen + " bytes is too short for a JSON object");
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(path, ch, headerBuf, 8);
            long dataStart = 8 + headerLen;
            SafetensorsHeader header = SafetensorsHeader.parse(headerBuf.array(), size - dataStart, path);
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafetensorsFile(path, header, mapped.asSlice(dataStart));
        } catch (IOException e) {
            throw new JtuneException(path + ": cannot read safetensors file: " + e, e);
        }
    }

    private static void readFully(Path path, FileChannel ch, ByteBuffer buf, long position) throws IOException, JtuneException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new JtuneException(path + ": unexpected end of file at byte " + pos + " (truncated?)");
            pos += n;
        }
    }
}
