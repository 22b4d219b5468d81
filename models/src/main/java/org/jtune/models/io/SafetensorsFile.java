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
 * read-only into a caller's arena (closing the arena unmaps it), or, for a file smaller than
 * {@code copyBelowBytes}, read into the arena. The 8-byte header length is checked against
 * {@link #MAX_HEADER_BYTES} and the file size before anything is allocated, and the header is read
 * with plain channel reads, so a hostile file costs at most one bounded buffer and is never mapped.
 *
 * <p>Why small files are copied: a mapped file that another program truncates in place while it is
 * mapped makes the next read of a vanished page raise SIGBUS, which the JVM turns into an error for
 * plain reads but not inside compiled Vector API kernels, where it kills the process. A copy cannot
 * vanish. Large files stay mapped (zero copy, as the design wants); for them {@link MappedWeights}
 * keeps the channel open and checks its size between steps, which narrows the window to one step
 * but cannot close it (only the kernel could). jtune itself never truncates a model file in place: it
 * writes new files beside and renames them, and a mapping keeps reading the old file.
 *
 * @param channel the open channel of a mapped file (its size is watched), or null for a copy
 */
public record SafetensorsFile(Path path, SafetensorsHeader header, MemorySegment data, FileChannel channel, long mappedBytes) {
    /** Largest header accepted, as in the reference implementation (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Files below this size are read into memory instead of mapped (-Djtune.mapMinBytes; 0 maps everything). */
    public static long defaultCopyBelowBytes() {
        return Long.getLong("jtune.mapMinBytes", 256L << 20);
    }

    /** Opens, validates and maps (or, when small, reads) {@code path} into {@code arena}. */
    public static SafetensorsFile open(Path path, Arena arena) throws JtuneException {
        return open(path, arena, defaultCopyBelowBytes());
    }

    /** Opens and validates {@code path}; maps it into {@code arena}, or reads it there when smaller than {@code copyBelowBytes}. */
    public static SafetensorsFile open(Path path, Arena arena, long copyBelowBytes) throws JtuneException {
        FileChannel ch = null;
        boolean keep = false;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
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
            if (size < copyBelowBytes) {
                long n = size - dataStart;
                MemorySegment copy = arena.allocate(Math.max(1, n), 64).asSlice(0, n);
                for (long done = 0; done < n; ) { // ByteBuffers reach 2 GiB at most
                    long chunk = Math.min(n - done, 1L << 30);
                    readFully(path, ch, copy.asSlice(done, chunk).asByteBuffer(), dataStart + done);
                    done += chunk;
                }
                return new SafetensorsFile(path, header, copy, null, 0);
            }
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            org.jtune.tensor.ResidentMemory.lockIfAsked(mapped, path.toString());
            keep = true;
            return new SafetensorsFile(path, header, mapped.asSlice(dataStart), ch, size);
        } catch (IOException e) {
            throw new JtuneException(path + ": cannot read safetensors file: " + org.jtune.io.IoErrors.reason(e), e);
        } finally {
            if (!keep && ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
        }
    }

    /** Fails when the mapped file has shrunk since it was mapped (truncated in place by another program). */
    public void checkIntact() throws JtuneException {
        if (channel == null) return;
        long now;
        try {
            now = channel.size();
        } catch (IOException e) {
            return; // closed: the reader is closing
        }
        if (now < mappedBytes) {
            throw new JtuneException(path + " was truncated to " + now + " bytes while jtune had it mapped (" + mappedBytes
                    + " bytes); it was overwritten in place by another program. Reload the model; replace model files by "
                    + "writing new ones and renaming them");
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
