package org.jtune.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Quantize then dequantize random rows and check the error against what each format's definition
 * allows: Q8_0 within half a step (plus the F16 rounding of d over 127 steps), Q4_0 within one step
 * (the clamp at 15 costs up to a whole step at +amax), F16/BF16 within half an ulp of their precision,
 * and Q4_K/Q6_K within a relative RMS error their bits per weight make typical.
 */
class RoundTripTest {
    @Test
    void blockFormatsStayWithinTheirStep() {
        Random r = new Random(5);
        for (int t = 0; t < 40; t++) {
            int n = 32 * (1 + r.nextInt(9));
            float scale = (float) Math.pow(10, r.nextInt(5) - 2);
            float[] x = TestRows.fill(n, i -> (float) r.nextGaussian() * scale);
            float[] q8 = Q8_0Format.INSTANCE.dequantize(Q8_0Format.INSTANCE.quantize(x), n);
            float[] q4 = Q4_0Format.INSTANCE.dequantize(Q4_0Format.INSTANCE.quantize(x), n);
            for (int b = 0; b < n / 32; b++) {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[32 * b + i]));
                double d8 = amax / 127.0, d4 = amax / 8.0;
                for (int i = 32 * b; i < 32 * b + 32; i++) {
                    assertTrue(Math.abs(q8[i] - x[i]) <= d8 / 2 + 127 * d8 * 0x1p-11 + 1e-30, "Q8_0 " + x[i] + " → " + q8[i]);
                    assertTrue(Math.abs(q4[i] - x[i]) <= d4 * (1 + 0x1p-10) + 1e-30, "Q4_0 " + x[i] + " → " + q4[i]);
                }
            }
        }
    }

    @Test
    void kQuantsReachTheirTypicalAccuracy() {
        Random r = new Random(6);
        for (int t = 0; t < 20; t++) {
            int n = 256 * (1 + r.nextInt(4));
            float[] x = TestRows.fill(n, i -> (float) r.nextGaussian());
            assertTrue(relativeRms(x, Q4KFormat.INSTANCE) < 0.12, "Q4_K");
            assertTrue(relativeRms(x, Q6KFormat.INSTANCE) < 0.03, "Q6_K");
            assertTrue(relativeRms(x, Q8_0Format.INSTANCE) < 0.01, "Q8_0");
        }
    }

    @Test
    void halfFormatsRoundToNearest() {
        Random r = new Random(8);
        float[] x = TestRows.fill(1000, i -> (float) r.nextGaussian());
        float[] f16 = F16Format.INSTANCE.dequantize(F16Format.INSTANCE.quantize(x), x.length);
        float[] bf16 = Bf16Format.INSTANCE.dequantize(Bf16Format.INSTANCE.quantize(x), x.length);
        float[] f32 = F32Format.INSTANCE.dequantize(F32Format.INSTANCE.quantize(x), x.length);
        for (int i = 0; i < x.length; i++) {
            assertTrue(Math.abs(f16[i] - x[i]) <= Math.max(Math.ulp(x[i]) * 0x1p13f / 2, 0x1p-25f), "F16 " + x[i]);
            assertTrue(Math.abs(bf16[i] - x[i]) <= Math.ulp(x[i]) * 0x1p16f / 2, "BF16 " + x[i]);
            assertTrue(f32[i] == x[i], "F32");
        }
    }

    private static double relativeRms(float[] x, BlockFormat f) {
        float[] y = f.dequantize(f.quantize(x), x.length);
        double err = 0, ref = 0;
        for (int i = 0; i < x.length; i++) {
            err += (y[i] - x[i]) * (double) (y[i] - x[i]);
            ref += x[i] * (double) x[i];
        }
        return Math.sqrt(err / ref);
    }
}
