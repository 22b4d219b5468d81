package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import org.jtune.tensor.BlockCodec;

/**
 * One weight storage format of ggml, row by row: a row of n elements (n a multiple of
 * {@link #blockSize()}) is {@code n / blockSize()} blocks of {@link #blockBytes()} bytes, little-endian,
 * laid out exactly as ggml lays out its block structs, so rows read from or written to a GGUF file are
 * the bytes llama.cpp reads and writes.
 *
 * <ul>
 * <li>{@link #quantizeRow} gives the very bytes of ggml's reference quantizer of the type
 *     ({@code quantize_row_*_ref}: deterministic, no importance matrix);</li>
 * <li>{@link #dequantizeRow} gives the very floats of ggml's {@code dequantize_row_*};</li>
 * <li>{@link #dot} is the fast kernel: one quantized row times an F32 vector, dequantized in registers
 *     (Vector API), accumulated in F32 in a fixed order. Its result differs from the double-precision
 *     dot of the dequantized row by F32 rounding only (see the kernel tests for the bound).</li>
 * </ul>
 * Implementations are stateless singletons, safe to share between threads. Every format is also the
 * tensor module's {@link BlockCodec} (rows of ggml blocks are self-contained), so a tensor of its rows
 * ({@code Tensor.blockQuantized}) is a weight the models multiply with through the backend's block kernels.
 */
public interface BlockFormat extends BlockCodec {
    GgmlType type();

    /** ggml's name in lower case ("q4_0", "q6_k"). */
    @Override
    default String name() {
        return type().name().toLowerCase(Locale.ROOT);
    }

    @Override
    default long rowBytes(int cols) {
        return rowBytes((long) cols);
    }

    @Override
    default void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        quantizeRow(src, srcOff, dst, dstOff, cols);
    }

    /** Blocks are independent: elements [from, from + n) are the blocks from rowBytes(from) on. */
    @Override
    default void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        dequantizeRow(w, rowOff + rowBytes((long) from), dst, dstOff, n);
    }

    @Override
    default float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        return dot(w, rowOff, x, xOff, cols);
    }

    /** Elements per block. */
    default int blockSize() {
        return type().blockSize();
    }

    /** Bytes per block. */
    default int blockBytes() {
        return type().blockBytes();
    }

    /** Bytes of a row of n elements. */
    default long rowBytes(long n) {
        return type().rowBytes(n);
    }

    /** Quantizes src[srcOff, srcOff + n) into the row at dst[dstOff, dstOff + rowBytes(n)). */
    void quantizeRow(float[] src, int srcOff, MemorySegment dst, long dstOff, int n);

    /** Dequantizes the row of n elements at src[srcOff..] into dst[dstOff, dstOff + n). */
    void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n);

    /** Σ w[i]·x[xOff + i] over the row of n elements at w[wOff..], dequantized in registers. */
    float dot(MemorySegment w, long wOff, float[] x, int xOff, int n);

    /** The bytes of one quantized row (a convenience for tests and small tensors). */
    default byte[] quantize(float[] row) {
        byte[] out = new byte[Math.toIntExact(rowBytes(row.length))];
        quantizeRow(row, 0, MemorySegment.ofArray(out), 0, row.length);
        return out;
    }

    /** The floats of one quantized row of n elements held in a byte array. */
    default float[] dequantize(byte[] row, int n) {
        float[] out = new float[n];
        dequantizeRow(MemorySegment.ofArray(row), 0, out, 0, n);
        return out;
    }

    /** Checks that n is a whole number of blocks. */
    default void checkRow(int n) {
        if (n < 0 || n % blockSize() != 0) {
            throw new IllegalArgumentException(type() + ": a row of " + n + " elements is not a whole number of "
                    + blockSize() + "-element blocks");
        }
    }
}
