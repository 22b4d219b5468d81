package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jtune.tensor.RowGroupCodec;

/**
 * The interleaved layout shared by {@link Q4_0x32Format} and {@link Q8_0x32Format}: ggml blocks of 32 columns made of an F16
 * scale d and {@code codeBytes} code bytes (Q4_0: 16, two nibbles each; Q8_0: 32), stored per group of 32 rows and block
 * as the 32 scales in 16 little-endian words (word t holds row t's in its low half and row t + 16's in its high half,
 * {@link RowGroupFormats#wordHalf}), then {@code codeBytes} columns of 32 bytes, byte r of column j being row r's code byte
 * j. A group's block is thus 64 + 32·codeBytes bytes, as many as ggml's 32 blocks. The formats keep their kernels and
 * their code semantics; this class only moves bytes between the two layouts.
 */
record ScaledBlockGroups(String name, String ggmlName, int codeBytes) {
    static final int QK = 32;
    /** Offset of the first column of codes within a group's block (after the 32 F16 scales). */
    static final int CODES = 64;
    private static final int GROUP = RowGroupCodec.GROUP;

    /** Bytes of one ggml block: the F16 scale, then the codes. */
    int plainBytes() {
        return 2 + codeBytes;
    }

    /** Bytes of one group's block: 32 scales, then the columns of codes. */
    int blockBytes() {
        return CODES + GROUP * codeBytes;
    }

    /** Bytes per row of a matrix of cols columns in this layout (as in ggml's rows). */
    long rowBytes(int cols) {
        return (long) cols / QK * plainBytes();
    }

    /** Byte of row r's F16 scale within its group's block. */
    static int scaleByte(int r) {
        return RowGroupFormats.wordHalf(r);
    }

    /** A new native matrix in this layout holding the (rows, cols) ggml rows at plain[off ..]; null when a scale is Inf or NaN. */
    MemorySegment interleave(MemorySegment plain, long off, int rows, int cols) {
        check(rows, cols);
        return RowGroupFormats.interleave(ggmlName, plain, off, rows, cols, QK, plainBytes(), blockBytes(), (src, o, r, dst, d) -> {
            dst[d + scaleByte(r)] = src[o];
            dst[d + scaleByte(r) + 1] = src[o + 1];
            for (int j = 0; j < codeBytes; j++) dst[d + CODES + 32 * j + r] = src[o + 2 + j];
            return (src[o + 1] & 0x7c) != 0x7c;
        });
    }

    /** The ggml rows of a (rows, cols) matrix of this layout at w[off ..] (what files hold), on the heap. */
    MemorySegment plain(MemorySegment w, long off, int rows, int cols) {
        check(rows, cols);
        long plainRow = rowBytes(cols), rb = rowBytes(cols);
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(rows * plainRow)]);
        for (int r = 0; r < rows; r++) {
            long rowOff = off + r * rb;
            int lane = RowGroupFormats.lane(rowOff, rb);
            for (int b = 0; b < cols / QK; b++) {
                long o = RowGroupFormats.blockOffset(rowOff, rb, b, blockBytes()), p = r * plainRow + (long) b * plainBytes();
                out.set(QuantVectors.SHORT, p, w.get(QuantVectors.SHORT, o + scaleByte(lane)));
                for (int j = 0; j < codeBytes; j++) out.set(ValueLayout.JAVA_BYTE, p + 2 + j, w.get(ValueLayout.JAVA_BYTE, o + CODES + 32L * j + lane));
            }
        }
        return out;
    }

    /**
     * One ggml row (plainRow[0 ..], cols columns) written into its place in the group of the layout's row at dst[dstOff ..];
     * a block whose scale is Inf or NaN (from a non-finite value) is refused.
     */
    void place(MemorySegment plainRow, int cols, MemorySegment dst, long dstOff) {
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(dstOff, rb);
        for (int b = 0; b < cols / QK; b++) {
            long o = RowGroupFormats.blockOffset(dstOff, rb, b, blockBytes());
            short d = plainRow.get(QuantVectors.SHORT, (long) b * plainBytes());
            if ((d & 0x7c00) == 0x7c00) {
                throw new IllegalArgumentException(name + ": row " + dstOff / rb + " holds a non-finite value in columns " + b * QK + ".." + (b * QK + QK - 1));
            }
            dst.set(QuantVectors.SHORT, o + scaleByte(lane), d);
            for (int j = 0; j < codeBytes; j++) {
                dst.set(ValueLayout.JAVA_BYTE, o + CODES + 32L * j + lane, plainRow.get(ValueLayout.JAVA_BYTE, (long) b * plainBytes() + 2 + j));
            }
        }
    }

    /** Refuses a (rows, cols) matrix that is not whole groups of rows of whole blocks. */
    void check(int rows, int cols) {
        RowGroupFormats.checkShape(name, rows, cols, QK);
    }
}
