package org.jtune.tensor;

/**
 * Inverse frequencies of rotary embeddings for Llama-family configs, as Hugging Face's
 * modeling_rope_utils computes them: invFreq[i] = 1 / theta^(2i / dim) for i &lt; dim/2 (rope_theta),
 * optionally rescaled by config.json's rope_scaling:
 * <ul>
 *   <li>{@link Linear} ("linear"): invFreq / factor (position interpolation);</li>
 *   <li>{@link Llama3} ("llama3", Llama 3.1+): with wavelength λ = 2π / invFreq, λ &lt; L/high keeps
 *       invFreq, λ &gt; L/low divides it by factor, and in between blends the two with
 *       s = (L/λ − low) / (high − low): (1 − s)·invFreq/factor + s·invFreq, where L is
 *       original_max_position_embeddings.</li>
 * </ul>
 * Computed in double and rounded once to float (HF computes in float32, so values may differ in the
 * last bit). The result feeds {@link Ops#rope} as the (dim/2) invFreq tensor.
 */
public final class RopeFrequencies {
    /** The rope_scaling block of config.json. */
    public sealed interface Scaling permits None, Linear, Llama3 {}

    /** No rope_scaling. */
    public record None() implements Scaling {}

    /** rope_type "linear". */
    public record Linear(double factor) implements Scaling {
        public Linear {
            if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling linear: factor must be > 0, got " + factor);
        }
    }

    /** rope_type "llama3". */
    public record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements Scaling {
        public Llama3 {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("rope_scaling llama3: need factor > 0, 0 < low_freq_factor < high_freq_factor and "
                        + "original_max_position_embeddings > 0, got factor " + factor + ", low_freq_factor " + lowFreqFactor
                        + ", high_freq_factor " + highFreqFactor + ", original_max_position_embeddings " + originalMaxPositionEmbeddings);
            }
        }
    }

    private RopeFrequencies() {}

    /** invFreq (dim/2) for a head dim (even), rope_theta and rope_scaling. */
    public static float[] inverseFrequencies(int dim, double theta, Scaling scaling) {
        if (dim <= 0 || dim % 2 != 0) throw new IllegalArgumentException("rope: head dim must be positive and even, got " + dim);
        if (!(theta > 1)) throw new IllegalArgumentException("rope: rope_theta must be > 1, got " + theta);
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) {
            double inv = 1.0 / Math.pow(theta, (2.0 * i) / dim);
            f[i] = (float) switch (scaling) {
                case None n -> inv;
                case Linear l -> inv / l.factor();
                case Llama3 l -> llama3(inv, l);
            };
        }
        return f;
    }

    /** The same as a 1-D F32 tensor. */
    public static Tensor tensor(int dim, double theta, Scaling scaling) {
        float[] f = inverseFrequencies(dim, theta, scaling);
        return Tensor.of(f, f.length);
    }

    /**
     * What Llama 3 scaling divides the inverse frequency {@code inv} by: 1 for short wavelengths, factor for long ones, and
     * 1 / ((1 − smooth)/factor + smooth) between (the per-frequency factors llama.cpp keeps in a GGUF's rope_freqs tensor).
     */
    public static double llama3Divisor(double inv, Llama3 s) {
        double wavelen = 2 * Math.PI / inv;
        if (wavelen < s.originalMaxPositionEmbeddings() / s.highFreqFactor()) return 1;
        if (wavelen > s.originalMaxPositionEmbeddings() / s.lowFreqFactor()) return s.factor();
        double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return 1 / ((1 - smooth) / s.factor() + smooth);
    }

    private static double llama3(double inv, Llama3 s) {
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / inv;
        if (wavelen < highFreqWavelen) return inv;
        if (wavelen > lowFreqWavelen) return inv / s.factor();
        double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * inv / s.factor() + smooth * inv;
    }
}
