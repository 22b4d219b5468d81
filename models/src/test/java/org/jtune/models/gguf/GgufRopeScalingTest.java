package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.JtuneException;
import org.jtune.models.config.RopeScaling;
import org.junit.jupiter.api.Test;

/**
 * Llama 3 scaling read back from rope_freqs divisors: Llama 3.1's own parameters (rope_theta 500000, head_dim 128, factor 8,
 * low/high 1 and 4, original 8192) come back exactly; Llama 3.2's (factor 32) too; parameters with another original context
 * come back as equivalent ones that give the same divisors; divisors of no Llama 3 form are refused by entry.
 */
class GgufRopeScalingTest {
    @Test
    void llama31And32ComeBackExactly() throws Exception {
        for (double factor : new double[] {8, 32}) {
            RopeScaling.Llama3 s = new RopeScaling.Llama3(factor, 1, 4, 8192);
            assertEquals(s, GgufRopeScaling.llama3(GgufRopeScaling.ropeFreqs(s, 128, 500000), 128, 500000, "t"));
        }
    }

    @Test
    void anotherOriginalContextComesBackAsTheSameDivisors() throws Exception {
        RopeScaling.Llama3 s = new RopeScaling.Llama3(16, 2, 6, 4096);
        float[] d = GgufRopeScaling.ropeFreqs(s, 64, 10000);
        RopeScaling back = GgufRopeScaling.llama3(d, 64, 10000, "t");
        assertArrayEquals(d, GgufRopeScaling.ropeFreqs(back, 64, 10000), 1e-5f);
    }

    @Test
    void divisorsOfNoLlama3FormAreRefused() {
        float[] d = GgufRopeScaling.ropeFreqs(new RopeScaling.Llama3(8, 1, 4, 8192), 128, 500000);
        d[3] = 1.5f; // a short wavelength Llama 3 leaves alone
        JtuneException e = assertThrows(JtuneException.class, () -> GgufRopeScaling.llama3(d, 128, 500000, "f.gguf: tensor rope_freqs.weight"));
        assertTrue(e.getMessage().startsWith("f.gguf: tensor rope_freqs.weight: ") && e.getMessage().contains("Llama 3"), e.getMessage());
        float[] one = GgufRopeScaling.ropeFreqs(new RopeScaling.Llama3(8, 1, 4, 8192), 128, 500000);
        one[40] *= 1.01f; // a fully scaled frequency, off by 1 %
        e = assertThrows(JtuneException.class, () -> GgufRopeScaling.llama3(one, 128, 500000, "f.gguf: tensor rope_freqs.weight"));
        assertTrue(e.getMessage().contains("is not what Llama 3 scaling"), e.getMessage());
        float[] ones = new float[64];
        java.util.Arrays.fill(ones, 1f);
        assertDoesNotThrow(() -> assertNull(GgufRopeScaling.llama3(ones, 128, 500000, "t")), "all ones: plain RoPE");
    }
}
