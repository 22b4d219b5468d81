package org.jtune.quant.nf4;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A (rows, cols) matrix in bitsandbytes' NF4 layout: the row-major flattened values in blocks of
 * {@code blockSize} (64 by default; blocks run on across row ends when cols is not a multiple), two 4-bit
 * {@link NormalFloat4} codes per byte (even flat index in the high nibble) in {@code codes}
 * ((rows·cols + 1) / 2 bytes, exactly the bytes of a bitsandbytes {@code Params4bit}), and each block's
 * absmax in {@link Nf4Scales}. Element i is level(code(i)) · absmax(i / blockSize) in float32
 * ({@code dequantize_4bit}); no full-precision copy of the matrix is kept.
 *
 * <p>The codes may be a memory-mapped slice of a checkpoint (zero copy) or memory allocated by
 * {@link #quantize}. Immutable and safe to share between threads.
 */
public record Nf4Tensor(int rows, int cols, int blockSize, MemorySegment codes, Nf4Scales scales) {
    public static final int DEFAULT_BLOCK_SIZE = 64;

    public Nf4Tensor {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative NF4 shape " + rows + "×" + cols);
        if (blockSize <= 0 || blockSize % 2 != 0) throw new IllegalArgumentException("NF4 block size " + blockSize + " is not a positive even number");
        long n = (long) rows * cols;
        if (codes.byteSize() != (n + 1) / 2) {
            throw new IllegalArgumentException("NF4 " + rows + "×" + cols + " needs " + (n + 1) / 2 + " code bytes, found " + codes.byteSize());
        }
        long blocks = (n + blockSize - 1) / blockSize;
        if (scales.blocks() != blocks) {
            throw new IllegalArgumentException("NF4 " + rows + "×" + cols + " in blocks of " + blockSize + " needs " + blocks + " absmax values, found " + scales.blocks());
        }
    }

    /** Values supplied row by row (a checkpoint tensor converted to float32 as it is read). */
    public interface RowSource {
        void read(int row, float[] dst, int dstOff);
    }

    /** Quantizes a row-major float32 matrix (QLoRA's NF4, double quantization when asked). */
    public static Nf4Tensor quantize(float[] x, int rows, int cols, int blockSize, boolean doubleQuant) {
        if (x.length != (long) rows * cols) throw new IllegalArgumentException(x.length + " values for a " + rows + "×" + cols + " matrix");
        return quantize((r, dst, off) -> System.arraycopy(x, r * cols, dst, off, cols), rows, cols, blockSize, doubleQuant);
    }

    /** Quantizes a matrix read row by row, holding only a few rows of float32 at a time. */
    public static Nf4Tensor quantize(RowSource src, int rows, int cols, int blockSize, boolean doubleQuant) {
        long n = (long) rows * cols;
        if (blockSize <= 0 || blockSize % 2 != 0) throw new IllegalArgumentException("NF4 block size " + blockSize + " is not a positive even number");
        int blocks = Math.toIntExact((n + blockSize - 1) / blockSize);
        MemorySegment codes = Arena.ofAuto().allocate(Math.max(1, (n + 1) / 2)).asSlice(0, (n + 1) / 2);
        float[] absmax = new float[blocks];
        int chunkBlocks = Math.max(1, (1 << 16) / blockSize);
        float[] buf = new float[chunkBlocks * blockSize + cols + blockSize];
        int[] q = new int[buf.length];
        float[] mid = SortedCode.midpoints(NormalFloat4.levels());
        int fill = 0, block = 0;
        long flat = 0;                                              // flat index of buf[0]
        for (int r = 0; r <= rows; r++) {
            if (r < rows) {
                src.read(r, buf, fill);
                fill += cols;
            }
            boolean last = r == rows;
            int whole = fill / blockSize;
            if (!last && whole < chunkBlocks) continue;
            int take = last ? fill : whole * blockSize;
            for (int off = 0; off < take; off += blockSize) {
                int len = Math.min(blockSize, take - off);
                absmax[block] = Blockwise.absmax(buf, off, len);
                Blockwise.quantizeBlock(buf, off, len, absmax[block], len == blockSize, mid, q, off);
                block++;
            }
            for (int i = 0; i < take; i += 2) {
                int hi = q[i], lo = i + 1 < take ? q[i + 1] : 0;   // an odd count pads the last low nibble with 0
                codes.set(ValueLayout.JAVA_BYTE, (flat + i) / 2, (byte) (hi << 4 | lo));
            }
            System.arraycopy(buf, take, buf, 0, fill - take);
            flat += take;
            fill -= take;
        }
        Nf4Scales scales = doubleQuant ? Nf4Scales.doubleQuantize(absmax) : Nf4Scales.plain(absmax);
        return new Nf4Tensor(rows, cols, blockSize, codes, scales);
    }

    /** rows · cols. */
    public long size() {
        return (long) rows * cols;
    }

    /** Bytes held: codes and scales. */
    public long bytes() {
        return codes.byteSize() + scales.bytes();
    }

    /** The 4-bit code of flat element i. */
    public int code(long i) {
        return NormalFloat4.code(codes.get(ValueLayout.JAVA_BYTE, i >>> 1), i);
    }

    /** dst[dstOff + k] = element (from + k) of the flattened matrix, for k in [0, n). */
    public void dequantize(long from, int n, float[] dst, int dstOff) {
        if (from < 0 || n < 0 || from + n > size()) throw new IndexOutOfBoundsException("elements [" + from + ", " + (from + n) + ") of " + size());
        long i = from, end = from + n;
        int o = dstOff;
        while (i < end) {
            int b = (int) (i / blockSize);
            float am = scales.absmax(b);
            long stop = Math.min(end, (long) (b + 1) * blockSize);
            if ((i & 1) == 1) {
                dst[o++] = NormalFloat4.level(code(i)) * am;
                i++;
            }
            for (; i + 1 < stop; i += 2) {
                int v = codes.get(ValueLayout.JAVA_BYTE, i >>> 1);
                dst[o++] = NormalFloat4.level(v >>> 4) * am;
                dst[o++] = NormalFloat4.level(v) * am;
            }
            if (i < stop) {
                dst[o++] = NormalFloat4.level(code(i)) * am;
                i++;
            }
        }
    }

    /** Elements [from, from + n) of row r. */
    public void dequantizeRow(int r, int from, int n, float[] dst, int dstOff) {
        if (r < 0 || r >= rows || from < 0 || from + n > cols) throw new IndexOutOfBoundsException("row " + r + " elements [" + from + ", " + (from + n) + ") of " + rows + "×" + cols);
        dequantize((long) r * cols + from, n, dst, dstOff);
    }

    /** The whole matrix in float32 (tests, merging into a full-precision base). */
    public float[] dequantizeAll() {
        float[] out = new float[Math.toIntExact(size())];
        dequantize(0, out.length, out, 0);
        return out;
    }

    /** Σ_k W[r, k]·x[xOff + k], dequantized block by block (per-block sums scaled once, in order). */
    public float dot(int r, float[] x, int xOff) {
        long i = (long) r * cols, end = i + cols;
        int k = xOff;
        float acc = 0f;
        while (i < end) {
            int b = (int) (i / blockSize);
            long stop = Math.min(end, (long) (b + 1) * blockSize);
            float s = 0f;
            for (; i < stop; i++) s += NormalFloat4.level(code(i)) * x[k++];
            acc += s * scales.absmax(b);
        }
        return acc;
    }
}
