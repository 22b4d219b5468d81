package org.jtune.tensor;

import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jtune.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's prefill attention four query heads of a kv group at a time gives the bits of one head at a time
 * (it shares the loads, not the arithmetic): random views of q, k and v, groups of 4 and 8 heads, head dims with and
 * without a tail of whole vectors or of single floats, causal, windowed, packed-segment, offset (a later chunk of a
 * prefill; decode steps, which stay one head at a time) and bidirectional masks, with rows that see no key.
 */
class FourHeadAttentionTest {
    @Test
    void fourHeadsGiveTheBitsOfOneHeadAtATime() {
        Rng rng = new Rng(77);
        Backend cpu = CpuBackend.INSTANCE;
        for (int trial = 0; trial < 72; trial++) {
            int ratio = trial % 2 == 0 ? 4 : 8, hkv = 1 + rng.nextInt(2), hq = hkv * ratio, b = 1 + rng.nextInt(2);
            int d = new int[] {64, 40, 80, 8}[trial % 4];
            int s = 16 + rng.nextInt(80), t = s;
            AttentionMask mask = switch (trial % 6) {
                case 0 -> AttentionMask.causalMask();
                case 1 -> AttentionMask.causalMask().withWindow(1 + rng.nextInt(30));
                case 2 -> AttentionMask.causalMask().withSegments(AttentionConformanceTest.packedSegments(rng, b, s));
                case 3 -> {
                    t = 16 + rng.nextInt(s - 15);
                    yield AttentionMask.causalMask().withQueryOffset(s - t);
                }
                case 4 -> { // decode steps and short chunks (one head at a time either way)
                    t = 1 + rng.nextInt(15);
                    yield AttentionMask.causalMask().withQueryOffset(s - t);
                }
                default -> new AttentionMask(false, 0, 0, null);
            };
            Tensor q = Layouts.any(rng, NORMAL, false, b, t, hq, d);
            Tensor k = Layouts.any(rng, NORMAL, false, b, s, hkv, d), v = Layouts.any(rng, NORMAL, false, b, s, hkv, d);
            float scale = (float) (1 / Math.sqrt(d));
            AttentionMask m = mask;
            float[] four, one;
            try {
                CpuBackend.setFourHeadAttention(true);
                four = Ops.using(cpu, () -> Ops.attention(q, k, v, m, scale)).toFloatArray();
                CpuBackend.setFourHeadAttention(false);
                one = Ops.using(cpu, () -> Ops.attention(q, k, v, m, scale)).toFloatArray();
            } finally {
                CpuBackend.setFourHeadAttention(true);
            }
            for (int i = 0; i < one.length; i++) {
                assertEquals(Float.floatToRawIntBits(one[i]), Float.floatToRawIntBits(four[i]),
                        "trial " + trial + ", element " + i + ", q " + describe(q) + ", k " + describe(k) + ", mask " + m);
            }
        }
    }
}
