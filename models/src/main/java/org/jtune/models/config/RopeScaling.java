package org.jtune.models.config;

/**
 * How rotary position frequencies are rescaled to reach longer contexts, as config.json's
 * {@code rope_scaling} describes it. Absent (null in {@link LlamaConfig}) means the plain RoPE
 * frequencies θ^(−2i/d). Only the two schemes used by Llama-family checkpoints are supported.
 */
public sealed interface RopeScaling {
    /** The config.json {@code rope_type} name of this scheme. */
    String type();

    /**
     * Llama 3.1 frequency-dependent scaling: wavelengths longer than
     * original/low_freq_factor are divided by {@code factor}, shorter than original/high_freq_factor
     * are kept, and the band between is interpolated smoothly.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements RopeScaling {
        public Llama3 {
            if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling.factor must be positive, got " + factor);
            if (!(lowFreqFactor > 0)) {
                throw new IllegalArgumentException("rope_scaling.low_freq_factor must be positive, got " + lowFreqFactor);
            }
            if (!(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("rope_scaling.high_freq_factor (" + highFreqFactor
                        + ") must exceed low_freq_factor (" + lowFreqFactor + ")");
            }
            if (originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("rope_scaling.original_max_position_embeddings must be positive, got "
                        + originalMaxPositionEmbeddings);
            }
        }

        @Override
        public String type() {
            return "llama3";
        }
    }

    /** Position interpolation: every position is divided by {@code factor} before rotating. */
    record Linear(double factor) implements RopeScaling {
        public Linear {
            if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling.factor must be positive, got " + factor);
        }

        @Override
        public String type() {
            return "linear";
        }
    }
}
