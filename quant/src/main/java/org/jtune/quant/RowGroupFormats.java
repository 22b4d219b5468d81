package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.DType;
import org.jtune.tensor.NativeMemory;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.ResidentMemory;
import org.jtune.tensor.RowGroupCodec;
import org.jtune.tensor.Tensor;

/**
 * Where block-quantized matrices change between ggml's rows (files) and jtune's interleaved layouts for the integer
 * kernels ({@link org.jtune.tensor.RowGroupCodec}): {@link #repacked} where weights are bound or quantized in memory,
 * {@link #unpacked} where they are written. One entry per layout: {@link Q4_0x32Format} for Q4_0,
 * {@link Q4_Kx32Format} for Q4_K, {@link Q6_Kx32Format} for Q6_K, {@link Q8_0x32Format} for Q8_0 (F32 activations,
 * {@link org.jtune.tensor.FloatGroupCodec}).
 */
public final class RowGroupFormats {
    private RowGroupFormats() {}

    /** t in its interleaved layout when it is a whole matrix of a format that has one and fits it (a new copy); otherwise t. */
    public static Tensor repacked(Tensor t) {
        return Q8_0x32Format.repacked(Q6_Kx32Format.repacked(Q4_Kx32Format.repacked(Q4_0x32Format.repacked(t))));
    }

    /**
     * A whole matrix of an interleaved layout as ggml's rows again (for writing files), and F32/BF16 served in groups
     * ({@link org.jtune.tensor.FloatRowGroups}) as plain rows; any other tensor unchanged.
     */
    public static Tensor unpacked(Tensor t) {
        return org.jtune.tensor.FloatRowGroups.plain(Q8_0x32Format.unpacked(Q6_Kx32Format.unpacked(Q4_Kx32Format.unpacked(Q4_0x32Format.unpacked(t)))));
    }

    /** One direction of a layout change over a whole (rows, cols) matrix at {@code from[off ..]}: a new segment, or null when it cannot be made. */
    interface Conversion {
        MemorySegment convert(MemorySegment from, long off, int rows, int cols);
    }

    /**
     * t in {@code layout} when {@code enabled} and t is a whole {@code rowsCodec} matrix of whole groups of rows and blocks
     * (a new native copy); otherwise t itself. When t lies in a file mapping, its pages are given back
     * ({@link ResidentMemory#release}): nothing reads them again, and the model is not held (or, with --mlock, locked) twice.
     */
    static Tensor repack(Tensor t, BlockCodec rowsCodec, BlockCodec layout, boolean enabled, Conversion interleave) {
        if (!enabled || t.dtype() != DType.BLOCK || t.blockCodec() != rowsCodec || t.rank() != 2 || t.offset() != 0 || !t.isContiguous()) return t;
        int rows = t.size(0), cols = t.size(1);
        if (rows == 0 || rows % RowGroupCodec.GROUP != 0 || cols == 0 || cols % layout.blockSize() != 0) return t;
        MemorySegment stored = t.storage().segment(), packed = interleave.convert(stored, 0, rows, cols);
        if (packed == null) return t;
        ResidentMemory.release(stored);
        return Tensor.blockQuantized(layout, packed, rows, cols);
    }

    /** A whole matrix of {@code layout} as {@code rowsCodec}'s rows; any other tensor unchanged; a view refused. */
    static Tensor unpack(Tensor t, BlockCodec layout, BlockCodec rowsCodec, Conversion plain) {
        if (t.dtype() != DType.BLOCK || t.blockCodec() != layout) return t;
        if (t.rank() != 2 || t.offset() != 0 || !t.isContiguous()) throw new IllegalArgumentException("a view of a " + layout.name() + " matrix cannot be unpacked");
        return Tensor.blockQuantized(rowsCodec, plain.convert(t.storage().segment(), 0, t.size(0), t.size(1)), t.size(0), t.size(1));
    }

    /** Byte of row r's 16-bit value (an F16 scale) among a group's 16 words ({@link RowGroupCodec#pairedSlot}). */
    static int wordHalf(int r) {
        return 2 * RowGroupCodec.pairedSlot(r);
    }

    /** Refuses a (rows, cols) matrix that is not whole groups of rows of whole {@code block}-column blocks, naming the layout. */
    static void checkShape(String layout, int rows, int cols, int block) {
        if (rows < 0 || rows % RowGroupCodec.GROUP != 0 || cols < 0 || cols % block != 0) {
            throw new IllegalArgumentException(layout + ": a (" + rows + ", " + cols + ") matrix is not whole groups of " + RowGroupCodec.GROUP
                    + " rows of " + block + "-blocks");
        }
    }

    /** A row's place in its group of 32, from its offset row · rowBytes. */
    static int lane(long rowOff, long rowBytes) {
        return (int) (rowOff / rowBytes % RowGroupCodec.GROUP);
    }

    /** Byte offset of block b (of {@code blockBytes} bytes per group) of the group holding the row at rowOff. */
    static long blockOffset(long rowOff, long rowBytes, int b, int blockBytes) {
        return rowOff - lane(rowOff, rowBytes) * rowBytes + (long) b * blockBytes;
    }

    /** Row r's ggml block at src[o ..] written into its group's block at dst[d ..]; false when its scale is Inf or NaN. */
    interface BlockScatter {
        boolean scatter(byte[] src, int o, int r, byte[] dst, int d);
    }

    /**
     * A new native matrix of a row-group layout (groups of {@link RowGroupCodec#GROUP} rows, groupBlock bytes per group and
     * block of QK columns) holding the (rows, cols) ggml rows of plainBlock bytes per block at plain[off ..], each row's
     * block placed by scatter; null when a scatter found a non-finite scale. Groups are converted in parallel.
     */
    static MemorySegment interleave(String ggmlName, MemorySegment plain, long off, int rows, int cols, int qk, int plainBlock,
                                    int groupBlock, BlockScatter scatter) {
        int blocks = cols / qk, plainRow = blocks * plainBlock, groupBytes = blocks * groupBlock, group = RowGroupCodec.GROUP;
        if (off < 0 || off + (long) rows * plainRow > plain.byteSize()) throw new IllegalArgumentException(ggmlName + " rows beyond their memory");
        MemorySegment out = NativeMemory.allocateLarge((long) rows / group * groupBytes);   // huge pages where the OS gives them
        AtomicBoolean finite = new AtomicBoolean(true);
        Parallel.forRange(rows / group, 1, (g0, g1) -> {
            byte[] src = new byte[group * plainRow], dst = new byte[groupBytes];
            for (int g = g0; g < g1; g++) {
                MemorySegment.copy(plain, ValueLayout.JAVA_BYTE, off + (long) g * group * plainRow, src, 0, src.length);
                for (int b = 0; b < blocks; b++) {
                    for (int r = 0; r < group; r++) {
                        if (!scatter.scatter(src, r * plainRow + b * plainBlock, r, dst, b * groupBlock)) finite.set(false);
                    }
                }
                MemorySegment.copy(dst, 0, out, ValueLayout.JAVA_BYTE, (long) g * groupBytes, groupBytes);
            }
        });
        return finite.get() ? out : null;
    }
}
