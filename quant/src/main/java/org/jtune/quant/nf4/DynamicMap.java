package org.jtune.quant.nf4;

/**
 * The signed 8-bit dynamic quantization map of bitsandbytes ({@code create_dynamic_map(signed=True,
 * max_exponent_bits=7, total_bits=8)}; Dettmers 2015, arXiv:1511.04561), the code book of the second
 * quantization level of QLoRA's double quantization. For exponent e = 0..6 it takes 2^e fraction
 * values, the means of neighbouring points of {@code linspace(0.1, 1, 2^e + 1)} in float32, scales them
 * by 10^(e−6) (in float32, as torch multiplies a float32 tensor by a Python scalar) with both signs, then
 * adds 0 and 1 and sorts: 2·127 + 2 = 256 values in [−0.993, 1].
 *
 * <p>{@code linspace} is torch's CPU kernel in float32: step = (end − start)/(steps − 1), the first half
 * start + step·i, the second half end − step·(steps − 1 − i).
 */
public final class DynamicMap {
    private static final float[] CODE = build();

    private DynamicMap() {}

    /** A copy of the 256 values, ascending (what a checkpoint stores as {@code nested_quant_map}). */
    public static float[] code() {
        return CODE.clone();
    }

    private static float[] build() {
        float[] data = new float[256];
        int k = 0;
        for (int e = 0; e < 7; e++) {
            int items = (1 << e) + 1;
            float[] b = linspace(0.1f, 1f, items);
            float scale = (float) Math.pow(10, e - 6);
            for (int j = 0; j + 1 < items; j++) {
                float mean = (b[j] + b[j + 1]) / 2f;
                data[k++] = scale * mean;
                data[k++] = -(scale * mean);
            }
        }
        data[k++] = 0f;
        data[k++] = 1f;
        if (k != 256) throw new IllegalStateException("dynamic map has " + k + " values");
        java.util.Arrays.sort(data);
        return data;
    }

    static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
        return out;
    }
}
