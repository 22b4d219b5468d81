package org.jtune.models.gguf;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.config.RopeScaling;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufMetadata;
import org.jtune.quant.gguf.GgufValue;
import org.jtune.tensor.RopeFrequencies;

/**
 * RoPE scaling in a GGUF file of the llama architecture, as llama.cpp's converter writes it and llama.cpp reads it:
 * <ul>
 * <li>linear (position interpolation): {@code llama.rope.scaling.type = "linear"} and {@code llama.rope.scaling.factor};</li>
 * <li>llama3 (Llama 3.1, 3.2, 3.3): no key, but a {@value #FREQS} tensor of head_dim/2 F32 divisors, one per rotary
 *     frequency (llama.cpp divides frequency i by entry i; {@link RopeFrequencies#llama3Divisor}).</li>
 * </ul>
 * Reading rope_freqs back recovers llama3 parameters that give the same divisors — they depend only on the factor
 * and on the line smooth(inv) = a·inv − b of the band between, so the original context is taken as
 * {@value #ASSUMED_ORIGINAL_CONTEXT} and low/high_freq_factor follow from a and b — and checks every divisor against
 * them; a file whose divisors are of no such form, or another scaling type (yarn...), is refused by name rather than
 * run with plain RoPE.
 */
final class GgufRopeScaling {
    static final String FREQS = "rope_freqs.weight";
    static final int ASSUMED_ORIGINAL_CONTEXT = 8192;

    private GgufRopeScaling() {}

    /** The metadata keys of {@code s} under architecture {@code arch} (linear only; none for llama3, which is a tensor). */
    static Map<String, GgufValue> metadata(String arch, RopeScaling s) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        if (s instanceof RopeScaling.Linear l) {
            m.put(arch + ".rope.scaling.type", GgufValue.string("linear"));
            m.put(arch + ".rope.scaling.factor", GgufValue.f32((float) l.factor()));
        }
        return m;
    }

    /** The rope_freqs divisors of a llama3 scaling (head_dim/2 of them), or null for another scaling or none. */
    static float[] ropeFreqs(RopeScaling s, int headDim, double theta) {
        if (!(s instanceof RopeScaling.Llama3 l)) return null;
        var scaling = new RopeFrequencies.Llama3(l.factor(), l.lowFreqFactor(), l.highFreqFactor(), l.originalMaxPositionEmbeddings());
        float[] d = new float[headDim / 2];
        for (int i = 0; i < d.length; i++) d[i] = (float) RopeFrequencies.llama3Divisor(inverse(i, headDim, theta), scaling);
        return d;
    }

    /** The scaling of a GGUF file of architecture {@code arch}, from its keys and rope_freqs tensor; null for plain RoPE. */
    static RopeScaling read(GgufFile f, String arch, int headDim, double theta) throws JtuneException {
        GgufMetadata m = f.metadata();
        String typeKey = arch + ".rope.scaling.type";
        String type = m.has(typeKey) ? m.getString(typeKey) : "none";
        RopeScaling keyed = switch (type) {
            case "none" -> null;
            case "linear" -> new RopeScaling.Linear(m.getDouble(arch + ".rope.scaling.factor"));
            default -> throw new JtuneException(f.path() + ": metadata " + typeKey + " = \"" + type + "\" is not supported (none, linear; "
                    + "Llama 3's scaling as a " + FREQS + " tensor)");
        };
        if (!f.hasTensor(FREQS)) return keyed;
        if (keyed != null) throw new JtuneException(f.path() + ": both " + typeKey + " and a " + FREQS + " tensor scale RoPE");
        float[] d = f.dequantize(f.tensor(FREQS));
        if (d.length != headDim / 2) {
            throw new JtuneException(f.path() + ": tensor " + FREQS + " has " + d.length + " entries for a head dim of " + headDim);
        }
        return llama3(d, headDim, theta, f.path() + ": tensor " + FREQS);
    }

    /** Llama 3 parameters that give divisors {@code d}, or an error naming {@code what}. */
    static RopeScaling llama3(float[] d, int headDim, double theta, String what) throws JtuneException {
        double factor = 1;
        for (float x : d) factor = Math.max(factor, x);
        if (factor <= 1 + 1e-6) return null;
        // smooth = (1/d − 1/factor) / (1 − 1/factor) on the band between, a line in inv: least squares over its points
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < d.length; i++) {
            if (d[i] <= 1 + 1e-4 || d[i] >= factor * (1 - 1e-4)) continue;
            double x = inverse(i, headDim, theta), y = (1 / d[i] - 1 / factor) / (1 - 1 / factor);
            n++;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        if (n < 2) throw new JtuneException(what + ": fewer than two frequencies between the unscaled and the fully scaled ones; "
                + "the divisors do not determine Llama 3 scaling parameters");
        double a = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (a * sx - sy) / n;
        double band = ASSUMED_ORIGINAL_CONTEXT / (2 * Math.PI * a), low = b * band, high = low + band;
        if (!(a > 0) || !(low > 0)) throw new JtuneException(what + ": the divisors are not of Llama 3's form (smooth band slope " + a + ")");
        String mismatch = null;
        for (double[] lh : new double[][] {{rounded(low), rounded(high)}, {low, high}}) {
            RopeScaling.Llama3 s = new RopeScaling.Llama3(factor, lh[0], lh[1], ASSUMED_ORIGINAL_CONTEXT);
            mismatch = mismatch(s, d, headDim, theta);
            if (mismatch == null) return s;
        }
        throw new JtuneException(what + ": " + mismatch);
    }

    /** The first divisor {@code s} does not give (to 1e-4), or null when it gives them all. */
    private static String mismatch(RopeScaling.Llama3 s, float[] d, int headDim, double theta) {
        var check = new RopeFrequencies.Llama3(s.factor(), s.lowFreqFactor(), s.highFreqFactor(), s.originalMaxPositionEmbeddings());
        for (int i = 0; i < d.length; i++) {
            double want = RopeFrequencies.llama3Divisor(inverse(i, headDim, theta), check);
            if (Math.abs(want - d[i]) > 1e-4 * want) {
                return "entry " + i + " = " + d[i] + " is not what Llama 3 scaling (factor " + s.factor() + ") gives there (" + want + ")";
            }
        }
        return null;
    }

    /** Six significant digits: 1.0 and 4.0 rather than the least-squares 0.99999994 and 4.0000002. */
    private static double rounded(double v) {
        return Double.parseDouble(String.format(java.util.Locale.ROOT, "%.6g", v));
    }

    private static double inverse(int i, int headDim, double theta) {
        return 1.0 / Math.pow(theta, (2.0 * i) / headDim);
    }
}
