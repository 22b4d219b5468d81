package org.jtune.tensor;

import java.util.Arrays;

/**
 * Random test inputs of a given logical shape in a random memory layout and dtype: contiguous,
 * permuted (a transposed base viewed back), narrowed out of a larger tensor, every other element
 * (a step-2 slice), or expanded from size 1 (stride 0); F32, BF16 or F16. The reference reads the
 * values through the view, so it needs no knowledge of the layout.
 */
final class Layouts {
    enum Layout { CONTIGUOUS, PERMUTED, NARROWED, STEPPED, EXPANDED }

    @FunctionalInterface
    interface Sample {
        float next(Rng rng);
    }

    static final Sample NORMAL = rng -> (float) rng.nextGaussian();

    static Sample uniform(double lo, double hi) {
        return rng -> (float) (lo + (hi - lo) * rng.nextDouble());
    }

    private Layouts() {}

    /** A random layout; F32 in about half of the draws, else BF16 or F16 when {@code halfTypes}. */
    static Tensor any(Rng rng, Sample sample, boolean halfTypes, int... shape) {
        Layout l = Layout.values()[rng.nextInt(Layout.values().length)];
        DType dt = !halfTypes ? DType.F32 : switch (rng.nextInt(4)) {
            case 0 -> DType.BF16;
            case 1 -> DType.F16;
            default -> DType.F32;
        };
        return make(rng, sample, dt, l, shape);
    }

    static Tensor make(Rng rng, Sample sample, DType dtype, Layout layout, int... shape) {
        int r = shape.length;
        switch (layout) {
            case PERMUTED -> {
                if (r < 2) return make(rng, sample, dtype, Layout.STEPPED, shape);
                int[] p = new int[r];
                for (int i = 0; i < r; i++) p[i] = r - 1 - i;
                int a = rng.nextInt(r), b = rng.nextInt(r); // a random swap on top of the reversal
                int tmp = p[a];
                p[a] = p[b];
                p[b] = tmp;
                int[] baseShape = new int[r];
                for (int i = 0; i < r; i++) baseShape[i] = shape[p[i]];
                int[] inv = new int[r];
                for (int i = 0; i < r; i++) inv[p[i]] = i;
                return base(rng, sample, dtype, baseShape).permute(inv);
            }
            case NARROWED -> {
                int[] big = shape.clone();
                int[] start = new int[r];
                for (int d = 0; d < r; d++) {
                    int extra = rng.nextInt(3);
                    start[d] = extra == 0 ? 0 : rng.nextInt(extra + 1);
                    big[d] += extra;
                }
                Tensor t = base(rng, sample, dtype, big);
                for (int d = 0; d < r; d++) t = t.narrow(d, start[d], shape[d]);
                return t;
            }
            case STEPPED -> {
                if (r == 0) return base(rng, sample, dtype, shape);
                int d = rng.nextInt(r);
                int[] big = shape.clone();
                big[d] = shape[d] * 2;
                return base(rng, sample, dtype, big).slice(d, 0, big[d], 2);
            }
            case EXPANDED -> {
                int[] small = shape.clone();
                boolean any = false;
                for (int d = 0; d < r; d++) {
                    if (shape[d] > 1 && rng.nextInt(2) == 0) {
                        small[d] = 1;
                        any = true;
                    }
                }
                if (!any) return base(rng, sample, dtype, shape);
                return base(rng, sample, dtype, small).expand(shape);
            }
            default -> {
                return base(rng, sample, dtype, shape);
            }
        }
    }

    private static Tensor base(Rng rng, Sample sample, DType dtype, int[] shape) {
        float[] a = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < a.length; i++) a[i] = sample.next(rng);
        Tensor t = Tensor.of(a, shape);
        return dtype == DType.F32 ? t : t.to(dtype);
    }

    /** Sizes the suite draws from: odd, prime, around the vector width, and a long one. */
    static final int[] SIZES = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100};

    /** A random shape of the given rank with at most ~maxNumel elements; one dim may be 1000, one may be 0. */
    static int[] shape(Rng rng, int rank, int maxNumel, boolean allowEmpty) {
        int[] s = new int[rank];
        for (int d = 0; d < rank; d++) s[d] = SIZES[rng.nextInt(SIZES.length)];
        if (rank > 0 && rng.nextInt(5) == 0) s[rng.nextInt(rank)] = 1000;
        while (Tensor.numel(s) > maxNumel) {
            int d = argmaxDim(s);
            s[d] = Math.max(1, s[d] / 3);
        }
        if (allowEmpty && rank > 0 && rng.nextInt(8) == 0) s[rng.nextInt(rank)] = 0;
        return s;
    }

    private static int argmaxDim(int[] s) {
        int best = 0;
        for (int d = 1; d < s.length; d++) if (s[d] > s[best]) best = d;
        return best;
    }

    static String describe(Tensor t) {
        return t.dtype() + Arrays.toString(t.shape()) + " strides " + Arrays.toString(t.strides());
    }

    static int[] reversed(int[] shape) {
        int[] r = new int[shape.length];
        for (int i = 0; i < r.length; i++) r[i] = shape[shape.length - 1 - i];
        return r;
    }

    static int[] reversedOrder(int rank) {
        int[] o = new int[rank];
        for (int i = 0; i < rank; i++) o[i] = rank - 1 - i;
        return o;
    }
}
