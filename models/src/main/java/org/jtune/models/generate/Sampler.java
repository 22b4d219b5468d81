package org.jtune.models.generate;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Rng;
import org.jtune.tensor.VectorMath;

/**
 * Chooses the next token from one row of logits as {@link SamplingConfig} says, in the order
 * Hugging Face applies its logits processors: repetition penalty, temperature, top-k, top-p, min-p,
 * then a draw from the renormalised distribution. Greedy (temperature 0) takes the first maximum.
 * The generator's state is explicit so a run is reproducible from its seed.
 *
 * <p>Tokens rank by logit, descending, the lower id first on ties. Top-k keeps the first k, top-p the
 * shortest rank prefix whose probability reaches p, min-p those at or above minP × the top
 * probability; the kept tokens are then drawn from with one uniform number, walking them in id order
 * (as torch.multinomial does over the masked vocabulary). Neither filter needs the vocabulary sorted,
 * only one boundary: the rank of the last token kept. {@link #boundary} finds it as a radix select does:
 * one pass puts every token in one of {@value #BUCKETS} buckets of equal logit width (buckets follow the
 * ranks), a walk over the buckets finds the one where the running count or mass crosses the target, and
 * only that bucket's tokens are ranked exactly (a weighted quickselect on keys that pack logit and id,
 * {@link #rankKey}). The probabilities come from a vectorized exp. A full sort of a 32000-token
 * vocabulary for every token had been most of a batched decode step.
 */
public final class Sampler {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int BUCKETS = 2048;
    /** Below this many elements a range is finished by insertion sort and a walk. */
    private static final int SMALL = 24;

    /** Per-thread scratch (sampling runs on one engine thread): weights by id, one bucket's keys and weights, bucket totals. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        float[] weights = new float[0];
        long[] keys = new long[0];
        double[] keyWeights = new double[0];
        final double[] mass = new double[BUCKETS];

        void ensure(int n) {
            if (weights.length < n) {
                weights = new float[n];
                keys = new long[n];
                keyWeights = new double[n];
            }
        }
    }

    private final SamplingConfig config;
    private final Rng rng;

    public Sampler(SamplingConfig config) {
        this.config = config;
        this.rng = new Rng(config.seed());
    }

    /** The next token id; {@code logits} is scratch and may be modified; {@code history} are the ids so far. */
    public int next(float[] logits, int[] history, int historyLength) {
        if (config.repetitionPenalty() != 1f) applyRepetitionPenalty(logits, history, historyLength, config.repetitionPenalty());
        int top = argmax(logits);
        if (config.temperature() == 0f || !Float.isFinite(logits[top])) return top;
        int v = logits.length;
        Scratch s = SCRATCH.get();
        s.ensure(v);
        float[] w = s.weights;
        float invT = 1f / config.temperature();
        double all = weights(logits, invT, logits[top] * invT, w);
        Cut cut = Cut.ALL;
        if (config.topK() > 0 && config.topK() < v) cut = boundary(logits, w, cut, config.topK(), true, s);
        if (config.topP() < 1f) cut = boundary(logits, w, cut, config.topP() * keptMass(logits, w, cut, 0f, all), false, s);
        float floor = config.minP() > 0f ? config.minP() * w[top] : 0f; // min-p: relative to the most likely token
        double total = keptMass(logits, w, cut, floor, all);
        double u = rng.nextDouble() * total;
        int last = top;
        for (int i = 0; i < v; i++) {
            if (w[i] < floor || !cut.keeps(logits, i)) continue;
            u -= w[i];
            if (u < 0) return i;
            if (w[i] > 0) last = i; // a masked (−∞) token is never the fallback of a rounding shortfall
        }
        return last;
    }

    /**
     * w[i] = exp(logits[i]·invT − max) for every token (the unnormalised probabilities at temperature
     * 1/invT); returns their sum (float lanes, as a float32 softmax sums).
     */
    static double weights(float[] logits, float invT, float max, float[] w) {
        int v = logits.length, i = 0;
        FloatVector sum = FloatVector.zero(F);
        for (int bound = F.loopBound(v); i < bound; i += F.length()) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, logits, i).mul(invT).sub(max));
            e.intoArray(w, i);
            sum = sum.add(e);
        }
        if (i < v) { // the tail, masked (the same arithmetic, so a token's weight does not depend on where it falls)
            VectorMask<Float> in = F.indexInRange(i, v);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, logits, i, in).mul(invT).sub(max));
            e.intoArray(w, i, in);
            sum = sum.add(e, in);
        }
        float[] lanes = sum.toArray();
        double total = 0;
        for (float lane : lanes) total += lane; // lanes in a fixed order: the same bits on every run
        return total;
    }

    /** The weight the cut and the min-p floor keep: {@code all} (the weights' sum) when they keep everything. */
    static double keptMass(float[] logits, float[] w, Cut cut, float floor, double all) {
        if (cut == Cut.ALL && floor == 0f) return all;
        double mass = 0;
        for (int i = 0; i < logits.length; i++) if (w[i] >= floor && cut.keeps(logits, i)) mass += w[i];
        return mass;
    }

    /**
     * Which tokens the filters keep: a rank prefix, those ranked at or before the token of key {@code last}.
     * A logit above {@code keepAbove} (the boundary bucket's highest) is kept and one below {@code dropBelow}
     * (its lowest) dropped without building a key; only logits between are ranked by key.
     */
    record Cut(long last, float keepAbove, float dropBelow) {
        static final Cut ALL = new Cut(Long.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY);

        boolean keeps(float[] logits, int i) {
            float l = logits[i];
            if (l > keepAbove) return true;
            if (l < dropBelow) return false;
            return rankKey(l, i) <= last;
        }
    }

    /**
     * Where to cut the tokens {@code within} keeps, taken in rank order until their count ({@code byCount})
     * or weight reaches {@code target}: at the token that reaches it; {@code within} when they never do.
     */
    static Cut boundary(float[] logits, float[] w, Cut within, double target, boolean byCount, Scratch s) {
        int v = logits.length;
        float hi = Float.NEGATIVE_INFINITY, lo = Float.POSITIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            float l = logits[i];
            if (l > hi) hi = l;
            if (l < lo && l != Float.NEGATIVE_INFINITY) lo = l;
        }
        if (hi == Float.NEGATIVE_INFINITY) return within;
        double scale = hi > lo ? (BUCKETS - 1) / ((double) hi - lo) : 0;
        double[] mass = s.mass;
        java.util.Arrays.fill(mass, 0);
        for (int i = 0; i < v; i++) if (within.keeps(logits, i)) mass[bucket(logits[i], hi, scale)] += byCount ? 1 : w[i];
        double before = 0;
        int b = 0;
        while (b < BUCKETS && before + mass[b] < target) before += mass[b++];
        if (b == BUCKETS) return within;
        int n = 0;
        float bucketHi = Float.NEGATIVE_INFINITY, bucketLo = Float.POSITIVE_INFINITY;
        for (int i = 0; i < v; i++) { // the boundary bucket's tokens, ranked exactly
            if (bucket(logits[i], hi, scale) != b || !within.keeps(logits, i)) continue;
            s.keys[n] = rankKey(logits[i], i);
            s.keyWeights[n++] = byCount ? 1 : w[i];
            bucketHi = Math.max(bucketHi, logits[i]);
            bucketLo = Math.min(bucketLo, logits[i]);
        }
        int at = selectMass(s.keys, s.keyWeights, 0, n, target - before, false);
        if (at < 0) return within;
        // above the bucket: kept (if within kept them); below it: dropped; inside it: by key
        float keepAbove = Math.max(bucketHi, within.keepAbove()), dropBelow = Math.max(bucketLo, within.dropBelow());
        return new Cut(Math.min(s.keys[at], within.last()), keepAbove, dropBelow);
    }

    /** Bucket of a logit: 0 holds the highest; equal logits share one, and a higher logit never lands in a later one. */
    private static int bucket(float logit, float hi, double scale) {
        double x = ((double) hi - logit) * scale;
        return x >= BUCKETS - 1 ? BUCKETS - 1 : (int) x;
    }

    /**
     * A token's rank as one long that orders ascending as the tokens rank: the logit descending
     * (Float.compare's order, so NaN first and −0 after +0), then the id ascending.
     */
    static long rankKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // signed-int order equals Float.compare's
        return ((long) ~ascending << 32) | id;
    }

    /**
     * The position, in rank order within [lo, hi), of the element at which the running weight first
     * reaches {@code target} (strict: first exceeds it); keys[lo, position) then hold exactly the
     * elements ranked before it. −1 when the whole range's weight does not reach the target.
     */
    static int selectMass(long[] keys, double[] w, int lo, int hi, double target, boolean strict) {
        while (hi - lo > SMALL) {
            int p = partition(keys, w, lo, hi);
            double left = 0;
            for (int i = lo; i < p; i++) left += w[i];
            if (reaches(left, target, strict)) {
                hi = p;
            } else if (reaches(left + w[p], target, strict)) {
                return p;
            } else {
                target -= left + w[p];
                lo = p + 1;
            }
        }
        for (int i = lo + 1; i < hi; i++) { // insertion sort of the rest, then a walk
            for (int j = i; j > lo && keys[j] < keys[j - 1]; j--) swap(keys, w, j, j - 1);
        }
        double run = 0;
        for (int i = lo; i < hi; i++) {
            run += w[i];
            if (reaches(run, target, strict)) return i;
        }
        return -1;
    }

    private static boolean reaches(double mass, double target, boolean strict) {
        return strict ? mass > target : mass >= target;
    }

    /** Lomuto partition around a median-of-three pivot (keys are distinct: they hold the id); returns the pivot's position. */
    private static int partition(long[] keys, double[] w, int lo, int hi) {
        int mid = (lo + hi) >>> 1, last = hi - 1;
        if (keys[mid] < keys[lo]) swap(keys, w, mid, lo);
        if (keys[last] < keys[lo]) swap(keys, w, last, lo);
        if (keys[last] < keys[mid]) swap(keys, w, last, mid);
        swap(keys, w, mid, last); // pivot to the end
        long pivot = keys[last];
        int store = lo;
        for (int i = lo; i < last; i++) if (keys[i] < pivot) swap(keys, w, i, store++);
        swap(keys, w, store, last);
        return store;
    }

    private static void swap(long[] keys, double[] w, int i, int j) {
        long k = keys[i];
        keys[i] = keys[j];
        keys[j] = k;
        double t = w[i];
        w[i] = w[j];
        w[j] = t;
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best] || (Float.isNaN(logits[i]) && !Float.isNaN(logits[best]))) best = i;
        }
        return best;
    }

    static void applyRepetitionPenalty(float[] logits, int[] history, int n, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < n; i++) {
            int id = history[i];
            if (id < 0 || id >= logits.length || seen[id]) continue;
            seen[id] = true;
            logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
        }
    }
}
