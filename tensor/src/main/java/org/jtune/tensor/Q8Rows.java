package org.jtune.tensor;

/**
 * Activation rows quantized for integer products, as ggml quantizes them for its dot products (block_q8_0 per 32
 * values: d = amax/127, code = round(x/d) ∈ [−127, 127], ties to even, d kept in F32; {@code cpu/Q8Activations} makes
 * them): row i's codes at codes[i·cols ..], its block b's scale at scales[i·cols/32 + b] and the sum of that block's
 * codes at sums[i·cols/32 + b] (for formats whose codes carry an offset, as Q4_0's q − 8). Read-only once made; the
 * kernels of a {@link RowGroupCodec} share one instance between threads.
 */
public record Q8Rows(short[] codes, float[] scales, int[] sums, int rows, int cols) {
    public Q8Rows {
        if (cols % Int8BlockCodec.BLOCK != 0 || codes.length < (long) rows * cols || scales.length < (long) rows * cols / Int8BlockCodec.BLOCK
                || sums.length < (long) rows * cols / Int8BlockCodec.BLOCK) {
            throw new IllegalArgumentException("Q8 rows of " + rows + "×" + cols + " do not match their arrays");
        }
    }
}
