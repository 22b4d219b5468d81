package org.jtune.quant;

import java.util.Random;
import org.jtune.tensor.Q8Rows;

/** Random 8-bit activation codes as {@link Q8Rows} (codes in −127..127, their 32- and 8-column sums, positive scales), for kernel comparisons. */
final class RandomActivations {
    private RandomActivations() {}

    static Q8Rows of(Random r, int m, int cols, int block) {
        short[] codes = new short[m * cols], sums8 = new short[m * cols / 8];
        int[] sums = new int[m * cols / 32];
        float[] scales = new float[m * cols / block];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (short) (r.nextInt(255) - 127);
            sums[i / 32] += codes[i];
            sums8[i / 8] += codes[i];
        }
        for (int i = 0; i < scales.length; i++) scales[i] = (float) Math.abs(r.nextGaussian()) / 127f;
        return new Q8Rows(codes, scales, sums, sums8, m, cols, block);
    }
}
