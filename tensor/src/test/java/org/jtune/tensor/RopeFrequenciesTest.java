package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Inverse frequencies against values worked out by hand from the Hugging Face formulas
 * (modeling_rope_utils: default, linear, llama3), each case with its arithmetic in a comment.
 */
class RopeFrequenciesTest {
    @Test
    void defaultIsThetaToTheMinusTwoIOverDim() {
        // dim 8, theta 10000: 1/10000^(0/8), 1/10000^(2/8), 1/10000^(4/8), 1/10000^(6/8) = 1, 0.1, 0.01, 0.001.
        float[] f = RopeFrequencies.inverseFrequencies(8, 10_000, new RopeFrequencies.None());
        assertEquals(4, f.length);
        assertEquals(1f, f[0]);
        assertEquals(0.1f, f[1], 1e-8f);
        assertEquals(0.01f, f[2], 1e-9f);
        assertEquals(0.001f, f[3], 1e-10f);
    }

    @Test
    void linearDividesByTheFactor() {
        // dim 4, theta 100, factor 4: (1, 1/100^(2/4) = 0.1) / 4 = (0.25, 0.025).
        float[] f = RopeFrequencies.inverseFrequencies(4, 100, new RopeFrequencies.Linear(4));
        assertEquals(0.25f, f[0]);
        assertEquals(0.025f, f[1], 1e-9f);
    }

    @Test
    void llama3KeepsHighFrequenciesDividesLowOnesAndBlendsBetween() {
        // dim 8, theta 10000 → base 1, 0.1, 0.01, 0.001; factor 8, low 1, high 4, original 8192.
        // Wavelengths 2π/f: 6.283, 62.83, 628.3, 6283.2. high_freq_wavelen = 8192/4 = 2048, low_freq_wavelen = 8192/1 = 8192.
        // The first three are < 2048: unchanged. 6283.2 lies in [2048, 8192]: smooth = (8192/6283.19 − 1)/(4 − 1)
        // = (1.303799 − 1)/3 = 0.101266; f = (1 − 0.101266)·0.001/8 + 0.101266·0.001 = 1.123417e-4 + 1.012663e-4 = 2.136080e-4.
        var scaling = new RopeFrequencies.Llama3(8, 1, 4, 8192);
        float[] f = RopeFrequencies.inverseFrequencies(8, 10_000, scaling);
        assertEquals(1f, f[0]);
        assertEquals(0.1f, f[1], 1e-8f);
        assertEquals(0.01f, f[2], 1e-9f);
        assertEquals(2.136080e-4, f[3], 1e-9);
        // dim 4, theta 1e8 → base 1, 1e-4: wavelength 62831.9 > 8192, so 1e-4 / 8 = 1.25e-5.
        float[] g = RopeFrequencies.inverseFrequencies(4, 1e8, scaling);
        assertEquals(1f, g[0]);
        assertEquals(1.25e-5f, g[1], 1e-11f);
    }

    @Test
    void llama31EightBConfigIsMonotoneAndBoundedByTheUnscaledValues() {
        // Llama 3.1 8B: head dim 128, rope_theta 500000, factor 8, low 1, high 4, original 8192.
        float[] base = RopeFrequencies.inverseFrequencies(128, 500_000, new RopeFrequencies.None());
        float[] f = RopeFrequencies.inverseFrequencies(128, 500_000, new RopeFrequencies.Llama3(8, 1, 4, 8192));
        for (int i = 0; i < f.length; i++) {
            assertEquals(true, f[i] <= base[i] && f[i] >= base[i] / 8 * (1 - 1e-6f), "i = " + i);
            if (i > 0) assertEquals(true, f[i] < f[i - 1], "decreasing at " + i);
        }
        assertEquals(base[0], f[0]); // wavelength 2π < 2048
        assertEquals(base[63] / 8, f[63], 1e-6f * base[63]); // wavelength 2π·500000^(126/128) ≫ 8192
    }

    @Test
    void badConfigsAreRejectedWithTheirValues() {
        assertThrows(IllegalArgumentException.class, () -> RopeFrequencies.inverseFrequencies(7, 10_000, new RopeFrequencies.None()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RopeFrequencies.Llama3(8, 4, 1, 8192));
        assertEquals(true, e.getMessage().contains("low_freq_factor 4.0"), e.getMessage());
    }
}
