package org.jtune.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A {@link BlockCodec} whose rows are blocks of {@value #BLOCK} small integer codes times one scale per block
 * (ggml's Q8_0, Q4_0, Q5_0: w = code·d). Such a weight can be multiplied the way llama.cpp multiplies it: the
 * activation rows quantized to 8-bit codes per 32-block ({@code cpu/Q8Activations}, ggml's Q8_0), then per block
 * the exact integer dot product of the two code vectors, times d_w·d_a ({@code cpu/Int8PanelGemm}).
 */
public interface Int8BlockCodec extends BlockCodec {
    /** Elements per block of codes and per activation block. */
    int BLOCK = 32;

    /** The largest |code| of the format (Q8_0 128, Q4_0 8, Q5_0 16): block dot products stay below 32·this·127. */
    int maxAbsCode();

    /**
     * Writes the integer codes of elements [from, from + n) of the row of {@code cols} elements at w[rowOff..]
     * as (exact) floats into codes[codesOff, + n) and the scale of each of their n/32 blocks into
     * scales[scalesOff, + n/32). {@code from} and {@code n} are multiples of {@value #BLOCK}.
     */
    void codes(MemorySegment w, long rowOff, int cols, int from, int n, float[] codes, int codesOff, float[] scales, int scalesOff);
}
