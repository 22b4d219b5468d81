package org.jtune.serve.monitor;

/**
 * How far the mean of the current embeddings moved from the mean of the reference embeddings:
 * the cosine distance 1 − cos(μ_ref, μ_cur), and the Euclidean distance ‖μ_cur − μ_ref‖ divided by
 * the reference's spread (the root mean squared distance of reference points to μ_ref), so 0.5 means
 * "half a typical reference deviation".
 */
public record CentroidShift(double cosineDistance, double relativeDistance) {

    public static CentroidShift of(float[][] reference, float[][] current) {
        double[] mr = mean(reference), mc = mean(current);
        double dot = 0, nr = 0, nc = 0, diff = 0;
        for (int k = 0; k < mr.length; k++) {
            dot += mr[k] * mc[k];
            nr += mr[k] * mr[k];
            nc += mc[k] * mc[k];
            diff += (mc[k] - mr[k]) * (mc[k] - mr[k]);
        }
        double spread = 0;
        for (float[] v : reference) {
            for (int k = 0; k < mr.length; k++) spread += (v[k] - mr[k]) * (v[k] - mr[k]);
        }
        spread = Math.sqrt(spread / reference.length);
        double cos = nr == 0 || nc == 0 ? 1 : dot / Math.sqrt(nr * nc);
        return new CentroidShift(1 - cos, spread == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff) / spread);
    }

    static double[] mean(float[][] v) {
        double[] m = new double[v[0].length];
        for (float[] r : v) for (int k = 0; k < m.length; k++) m[k] += r[k];
        for (int k = 0; k < m.length; k++) m[k] /= v.length;
        return m;
    }
}
