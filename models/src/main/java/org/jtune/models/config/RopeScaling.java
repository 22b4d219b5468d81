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

    /** config.json's rope_scaling object read from {@code f} (null when absent, or "default"); unsupported types are refused by name. */
    static RopeScaling read(ConfigFields f) throws org.jtune.JtuneException {
        ConfigFields r = f.object("rope_scaling");
        if (r == null) return null;
        String type = r.string("rope_type");
        if (type == null) type = r.string("type");
        if (type == null) throw f.error("rope_scaling", "has neither rope_type nor type");
        try {
            return switch (type) {
                case "default" -> null;
                case "linear" -> new Linear(r.requiredNumber("factor"));
                case "llama3" -> new Llama3(r.requiredNumber("factor"), r.requiredNumber("low_freq_factor"), r.requiredNumber("high_freq_factor"),
                        r.requiredInt("original_max_position_embeddings"));
                default -> throw f.error("rope_scaling", "type \"" + type + "\" is not supported (supported: default, linear, llama3)");
            };
        } catch (IllegalArgumentException e) {
            throw new org.jtune.JtuneException(f.source() + ": " + e.getMessage(), e);
        }
    }

    /** The rope_scaling object config.json holds for {@code s} (null for none): rope_type and the old "type" key alike. */
    static java.util.Map<String, Object> toJson(RopeScaling s) {
        return switch (s) {
            case null -> null;
            case Linear l -> java.util.Map.of("rope_type", "linear", "type", "linear", "factor", l.factor());
            case Llama3 l -> java.util.Map.of("rope_type", "llama3", "factor", l.factor(), "low_freq_factor", l.lowFreqFactor(),
                    "high_freq_factor", l.highFreqFactor(), "original_max_position_embeddings", l.originalMaxPositionEmbeddings());
        };
    }

    /** The (headDim/2) inverse RoPE frequencies of base {@code theta} under {@code s} (null: plain), from the tensor module's formulas. */
    static org.jtune.tensor.Tensor inverseFrequencies(int headDim, double theta, RopeScaling s) {
        return org.jtune.tensor.RopeFrequencies.tensor(headDim, theta, switch (s) {
            case null -> new org.jtune.tensor.RopeFrequencies.None();
            case Linear l -> new org.jtune.tensor.RopeFrequencies.Linear(l.factor());
            case Llama3 l -> new org.jtune.tensor.RopeFrequencies.Llama3(l.factor(), l.lowFreqFactor(), l.highFreqFactor(),
                    l.originalMaxPositionEmbeddings());
        });
    }
}
