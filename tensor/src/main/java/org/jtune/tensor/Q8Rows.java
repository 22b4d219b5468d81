package org.jtune.tensor;

/**
 * Activation rows quantized for integer products, as ggml quantizes them for its dot products: per block of
 * {@code block} values (32: block_q8_0, for Q4_0; 256: block_q8_K, for the k-quants) one scale d = amax/127, and
 * code = round(x/d) ∈ [−127, 127], ties to even, d kept in F32 ({@code cpu/Q8Activations} makes them). Row i's codes at
 * codes[i·cols ..], its block b's scale at scales[i·cols/block + b], and the sum of the codes of its 32-block c at
 * sums[i·cols/32 + c] (for formats whose codes carry an offset, as Q4_0's q − 8, or a min, as Q4_K's), and of each 8
 * consecutive codes at sums8[i·cols/8 + e] (|·| ≤ 1016; Q6_K's offset q − 32 over 8 columns).
 *
 * <p>pairedCodes are the codes for a 4-bit layout whose byte j of a 32-block holds weights j (low nibble) and j + 16
 * (high nibble), as Q4_0's: code j as it is, and in place of code j + 16, code_{j+16} − 16·code_j (|·| ≤ 2159). A byte
 * b = lo + 16·hi, zero-extended, times code_j plus hi times that is lo·code_j + hi·code_{j+16}: one mask fewer per byte
 * ({@link #pairCodes}); empty unless the codec multiplies with them ({@link RowGroupCodec#usesPairedCodes}). Read-only once
 * made; the kernels of a {@link RowGroupCodec} share one instance between threads.
 */
public record Q8Rows(short[] codes, short[] pairedCodes, float[] scales, int[] sums, short[] sums8, int rows, int cols, int block) {
    public Q8Rows {
        if (block <= 0 || block % Int8BlockCodec.BLOCK != 0 || cols % block != 0 || codes.length < (long) rows * cols
                || (pairedCodes.length != 0 && pairedCodes.length < (long) rows * cols) || scales.length < (long) rows * cols / block
                || sums.length < (long) rows * cols / Int8BlockCodec.BLOCK || sums8.length < (long) rows * cols / 8) {
            throw new IllegalArgumentException("Q8 rows of " + rows + "×" + cols + " in blocks of " + block + " do not match their arrays");
        }
    }

    /** Rows whose paired codes are made from their codes ({@link #pairCodes}). */
    public Q8Rows(short[] codes, float[] scales, int[] sums, short[] sums8, int rows, int cols, int block) {
        this(codes, pairCodes(codes, new short[codes.length], 0, codes.length), scales, sums, sums8, rows, cols, block);
    }

    /** Writes the paired codes of codes[from, to) (whole 32-blocks) into paired[from, to); returns paired. */
    public static short[] pairCodes(short[] codes, short[] paired, int from, int to) {
        for (int b = from; b < to; b += Int8BlockCodec.BLOCK) {
            for (int j = 0; j < 16; j++) {
                paired[b + j] = codes[b + j];
                paired[b + j + 16] = (short) (codes[b + j + 16] - 16 * codes[b + j]);
            }
        }
        return paired;
    }
}
