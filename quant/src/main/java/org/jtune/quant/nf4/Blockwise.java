package org.jtune.quant.nf4;

/**
 * Blockwise absmax quantization onto a sorted code book, the way bitsandbytes' reference backend
 * ({@code quantize_blockwise} / {@code quantize_4bit}, backends/default/ops.py) does it over a flattened
 * tensor: blocks of {@code blockSize} consecutive values, absmax = max |x| of the block (stored as is,
 * 0 for an all-zero block), each value scaled to clamp(x · (1/absmax), −1, 1) in float32 with absmax
 * clamped below at 1e−38 (a last, shorter block divides instead: clamp(x / absmax, −1, 1)), then the
 * nearest code ({@link SortedCode}).
 */
final class Blockwise {
    private Blockwise() {}

    static float absmax(float[] x, int off, int len) {
        float m = 0f;
        for (int i = off; i < off + len; i++) m = Math.max(m, Math.abs(x[i]));
        return m;
    }

    /**
     * Quantizes x[off, off + len), one block, to code indices in q[qOff..]: {@code full} says whether it
     * is a whole block (multiply by the reciprocal) or the shorter last one (divide).
     */
    static void quantizeBlock(float[] x, int off, int len, float absmax, boolean full, float[] midpoints, int[] q, int qOff) {
        float am = Math.max(absmax, 1e-38f);
        float inv = 1f / am;
        for (int i = 0; i < len; i++) {
            float s = full ? x[off + i] * inv : x[off + i] / am;
            s = Math.min(1f, Math.max(-1f, s));
            q[qOff + i] = SortedCode.bucket(midpoints, s);
        }
    }
}
