package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link Ops#attention} over keys and values kept in BF16 or F16 (a half-precision KV cache: the first positions of a
 * larger buffer) gives the bits of the same call over those values widened to F32: decode steps and short chunks read the
 * 16-bit rows where they lie and widen each vector in registers, longer chunks convert first. Head dims 8, 24 (a vector and
 * a scalar tail on 16 lanes) and 64; GQA ratios 1 and 4; windows.
 */
class HalfPrecisionKvAttentionTest {
    @Test
    void halfPrecisionKeysAndValuesHaveTheBitsOfTheirValuesWidened() {
        Rng rng = new Rng(71);
        int trial = 0;
        for (DType half : new DType[] {DType.BF16, DType.F16}) {
            for (int d : new int[] {8, 24, 64}) {
                for (int ratio : new int[] {1, 4}) {
                    for (int t : new int[] {1, 3, 17}) {
                        int hkv = 2, hq = hkv * ratio, s = t + rng.nextInt(70), room = s + 5;
                        Tensor buffer = Tensor.uniform(rng, -2f, 2f, 1, room, hkv, d).to(half);
                        Tensor values = Tensor.uniform(rng, -2f, 2f, 1, room, hkv, d).to(half);
                        Tensor k = buffer.narrow(1, 0, s), v = values.narrow(1, 0, s);
                        Tensor q = Tensor.uniform(rng, -1f, 1f, 1, t, hq, d);
                        AttentionMask mask = new AttentionMask(true, trial % 3 == 0 ? 1 + rng.nextInt(20) : 0, s - t, null);
                        float[] want = Ops.attention(q, k.to(DType.F32), v.to(DType.F32), mask, 0f).toFloatArray();
                        float[] got = Ops.attention(q, k, v, mask, 0f).toFloatArray();
                        assertArrayEquals(want, got, half + " d " + d + " ratio " + ratio + " t " + t + " s " + s + " window " + mask.window());
                        trial++;
                    }
                }
            }
        }
    }
}
