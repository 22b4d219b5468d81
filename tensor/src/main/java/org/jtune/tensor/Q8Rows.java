package org.jtune.tensor;

/**
 * Activation rows quantized for integer products, as ggml quantizes them for its dot products: per block of
 * {@code block} values (32: block_q8_0, for Q4_0; 256: block_q8_K, for the k-quants) one scale d = amax/127, and
 * code = round(x/d) ∈ [−127, 127], ties to even, d kept in F32 ({@code cpu/Q8Activations} makes them). Row i's codes at
 * codes[i·cols ..], its block b's scale at scales[i·cols/block + b], and the sum of the codes of its 32-block c at
 * sums[i·cols/32 + c] (for formats whose codes carry an offset, as Q4_0's q − 8, or a min, as Q4_K's), and of each 8
 * consecutive codes at sums8[i·cols/8 + e] (|·| ≤ 1016; Q6_K's offset q − 32 over 8 columns). Read-only once made; the
 * kernels of a {@link RowGroupCodec} share one instance between threads.
 */
public record Q8Rows(short[] codes, float[] scales, int[] sums, short[] sums8, int rows, int cols, int block) {
    public Q8Rows {
        if (block <= 0 || block % Int8BlockCodec.BLOCK != 0 || cols % block != 0 || codes.length < (long) rows * cols
                || scales.length < (long) rows * cols / block || sums.length < (long) rows * cols / Int8BlockCodec.BLOCK
                || sums8.length < (long) rows * cols / 8) {
            throw new IllegalArgumentException("Q8 rows of " + rows + "×" + cols + " in blocks of " + block + " do not match their arrays");
        }
    }
}
