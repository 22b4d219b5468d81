package org.jtune.quant.nf4;

import java.util.Arrays;

/**
 * The absmax of every NF4 block of one tensor, either as float32 values or double-quantized as QLoRA
 * does it (§3 "Double Quantization"; bitsandbytes {@code quantize_4bit(compress_statistics=True)}): the
 * absmax values minus their mean ({@code offset}) are quantized blockwise to 8 bits on the signed
 * {@link DynamicMap} in blocks of 256, each of those blocks with its own float32 absmax
 * ({@code nested_absmax}). Block b's absmax is then code[q[b]] · nested[b / 256] + offset, computed in
 * float32 in that order (dequantize_blockwise, then {@code absmax += offset}), bit-exact with bitsandbytes.
 *
 * <p>Immutable. The offset is the float nearest the exact mean of the absmax values; torch's float32
 * reduction may differ in the last bit, which a loaded checkpoint's stored offset makes moot.
 */
public final class Nf4Scales {
    private final int blocks;
    private final float[] absmax;          // plain; null when double-quantized
    private final byte[] quantized;        // double-quantized codes, one per block
    private final float[] nested;          // one per nestedBlockSize blocks
    private final float offset;
    private final float[] nestedCode;
    private final int nestedBlockSize;

    private Nf4Scales(int blocks, float[] absmax, byte[] quantized, float[] nested, float offset, float[] nestedCode, int nestedBlockSize) {
        this.blocks = blocks;
        this.absmax = absmax;
        this.quantized = quantized;
        this.nested = nested;
        this.offset = offset;
        this.nestedCode = nestedCode;
        this.nestedBlockSize = nestedBlockSize;
    }

    /** Plain float32 absmax values, one per block. */
    public static Nf4Scales plain(float[] absmax) {
        return new Nf4Scales(absmax.length, absmax.clone(), null, null, 0f, null, 0);
    }

    /** Double-quantized scales as a checkpoint stores them (codes, nested absmax, offset, code book). */
    public static Nf4Scales doubleQuantized(byte[] quantized, float[] nested, float offset, float[] nestedCode, int nestedBlockSize) {
        if (nestedCode.length != 256) throw new IllegalArgumentException("the nested code book has " + nestedCode.length + " values, not 256");
        if (nestedBlockSize <= 0) throw new IllegalArgumentException("nested block size " + nestedBlockSize);
        long need = (quantized.length + (long) nestedBlockSize - 1) / nestedBlockSize;
        if (nested.length != need) {
            throw new IllegalArgumentException(quantized.length + " double-quantized absmax values in blocks of " + nestedBlockSize
                    + " need " + need + " nested absmax values, found " + nested.length);
        }
        return new Nf4Scales(quantized.length, null, quantized.clone(), nested.clone(), offset, nestedCode.clone(), nestedBlockSize);
    }

    /** Quantizes absmax values to 8 bits in blocks of 256 around their mean (QLoRA's double quantization). */
    public static Nf4Scales doubleQuantize(float[] absmax) {
        int n = absmax.length, nb = 256;
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = n == 0 ? 0f : (float) (sum / n);
        float[] centred = new float[n];
        for (int i = 0; i < n; i++) centred[i] = absmax[i] - offset;
        float[] code = DynamicMap.code();
        float[] mid = SortedCode.midpoints(code);
        int groups = (n + nb - 1) / nb;
        float[] nested = new float[groups];
        int[] q = new int[n];
        for (int g = 0; g < groups; g++) {
            int off = g * nb, len = Math.min(nb, n - off);
            nested[g] = Blockwise.absmax(centred, off, len);
            Blockwise.quantizeBlock(centred, off, len, nested[g], len == nb, mid, q, off);
        }
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) bytes[i] = (byte) q[i];
        return new Nf4Scales(n, null, bytes, nested, offset, code, nb);
    }

    public int blocks() {
        return blocks;
    }

    public boolean isDoubleQuantized() {
        return quantized != null;
    }

    /** The float32 absmax of block b. */
    public float absmax(int b) {
        if (absmax != null) return absmax[b];
        return nestedCode[quantized[b] & 0xFF] * nested[b / nestedBlockSize] + offset;
    }

    /** Every block's absmax as float32. */
    public float[] absmaxValues() {
        float[] out = new float[blocks];
        for (int b = 0; b < blocks; b++) out[b] = absmax(b);
        return out;
    }

    /** Plain absmax values (null when double-quantized). */
    public float[] plainAbsmax() {
        return absmax == null ? null : absmax.clone();
    }

    /** The 8-bit codes of the double-quantized absmax (null when plain). */
    public byte[] quantizedAbsmax() {
        return quantized == null ? null : quantized.clone();
    }

    public float[] nestedAbsmax() {
        return nested == null ? null : nested.clone();
    }

    public float offset() {
        return offset;
    }

    public float[] nestedCode() {
        return nestedCode == null ? null : nestedCode.clone();
    }

    public int nestedBlockSize() {
        return nestedBlockSize;
    }

    /** Bytes held in memory by these scales. */
    public long bytes() {
        return absmax != null ? 4L * blocks : blocks + 4L * nested.length + 4L * 256;
    }

    @Override
    public String toString() {
        return blocks + " absmax" + (isDoubleQuantized() ? " (double-quantized, offset " + offset + ", nested " + Arrays.toString(Arrays.copyOf(nested, Math.min(3, nested.length))) + "…)" : "");
    }
}
