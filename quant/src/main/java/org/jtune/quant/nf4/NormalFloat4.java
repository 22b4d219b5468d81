package org.jtune.quant.nf4;

/**
 * The NF4 data type of QLoRA (Dettmers et al. 2023, arXiv:2305.14314 §3) as bitsandbytes defines it:
 * 16 levels, quantiles of N(0, 1) normalised to [−1, 1] with an exact zero (bitsandbytes'
 * {@code get_4bit_type("nf4")} and {@code nf4_dequantization_lut} in csrc/kernels.cu, the float32
 * constants below, index 0b0000 = −1 … 0b0111 = 0 … 0b1111 = 1).
 *
 * <p>Quantizing a value already scaled into [−1, 1] picks the nearest level: the index is the number of
 * midpoints (float32 (level[i] + level[i+1]) / 2, as bitsandbytes' reference backend computes them)
 * strictly below the value ({@code torch.bucketize}, right = false), so a value exactly on a midpoint
 * goes to the lower level, as the CUDA kernel's {@code x > threshold} tree does. Two codes share a
 * byte: the element of even flat index in the high nibble, the odd one in the low nibble
 * ({@code qvals[j] = q(v[2j]) << 4 | q(v[2j+1])}).
 */
public final class NormalFloat4 {
    /** The 16 NF4 levels, in index order. */
    private static final float[] LEVELS = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };
    private static final float[] MIDPOINTS = SortedCode.midpoints(LEVELS);

    private NormalFloat4() {}

    /** A copy of the 16 levels (what a bitsandbytes checkpoint stores as {@code quant_map}). */
    public static float[] levels() {
        return LEVELS.clone();
    }

    /** The level of index q (0..15). */
    public static float level(int q) {
        return LEVELS[q & 0x0F];
    }

    /** The index of the nearest level to a value scaled into [−1, 1] (ties to the lower level). */
    public static int index(float scaled) {
        return SortedCode.bucket(MIDPOINTS, scaled);
    }

    /** The code of flat element i from a packed byte array: high nibble for even i, low for odd. */
    public static int code(byte packed, long i) {
        return (i & 1) == 0 ? (packed >>> 4) & 0x0F : packed & 0x0F;
    }
}
