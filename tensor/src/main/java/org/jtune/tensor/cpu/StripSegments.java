package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The strips of a packed float buffer (strip s of depth kc at floats s·kc·rows, kc·rows long), each as a heap segment of
 * its own, for the six-row tiles that read their strip through a segment ({@link GemmKernel#tile6},
 * {@code BlockPanelGemm}'s six-row kernel): with the strip alone in the segment, C2 proves the reads in bounds once,
 * before the k loop (offset into the whole buffer it checked each read at every step). Made again only when the buffer,
 * the depth or the number of strips asked for changes: a slice per tile call was an allocation C2 did not remove.
 * One thread's, like the buffer.
 */
final class StripSegments {
    private final int rows;
    private float[] buffer;
    private MemorySegment whole;
    private MemorySegment[] strips = new MemorySegment[0];
    private int depth, made;

    /** Strips of {@code rows} interleaved rows. */
    StripSegments(int rows) {
        this.rows = rows;
    }

    /** The first {@code count} strips of depth kc of buffer (entries past count are not for use). */
    MemorySegment[] of(float[] buffer, int count, int kc) {
        if (buffer != this.buffer) {
            this.buffer = buffer;
            whole = MemorySegment.ofArray(buffer);
            made = 0;
        }
        if (kc != depth || count > made) {
            if (strips.length < count) strips = new MemorySegment[count];
            long bytes = (long) kc * rows * Float.BYTES;
            for (int s = 0; s < count; s++) strips[s] = whole.asSlice(s * bytes, bytes);
            depth = kc;
            made = count;
        }
        return strips;
    }
}
