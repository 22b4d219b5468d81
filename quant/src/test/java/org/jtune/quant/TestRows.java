package org.jtune.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Rows that exercise the corners of ggml's quantizers: Gaussian and uniform rows at several scales,
 * heavy tails, all-zero and constant blocks, tiny values near ggml's GROUP_MAX_EPS, exact halves (ties
 * of roundf / nearest_int), one-signed rows (the min of Q4_K clamps to 0) and sub-blocks of very
 * different magnitudes.
 */
final class TestRows {
    record Row(String name, float[] values) {}

    private TestRows() {}

    static List<Row> rows(int n, long seed) {
        Random r = new Random(seed);
        List<Row> out = new ArrayList<>();
        for (float scale : new float[] {1e-3f, 1f, 100f}) {
            out.add(new Row("gaussian*" + scale, fill(n, i -> (float) r.nextGaussian() * scale)));
        }
        out.add(new Row("uniform", fill(n, i -> r.nextFloat() * 2 - 1)));
        out.add(new Row("heavy-tailed", fill(n, i -> (float) r.nextGaussian() * (r.nextInt(40) == 0 ? 50f : 1f))));
        out.add(new Row("zeros", new float[n]));
        out.add(new Row("constant", fill(n, i -> 0.5f)));
        out.add(new Row("negative constant", fill(n, i -> -3f)));
        out.add(new Row("one nonzero", fill(n, i -> i == n / 3 ? 2.5f : 0f)));
        out.add(new Row("tiny", fill(n, i -> (float) r.nextGaussian() * 1e-8f)));
        out.add(new Row("near eps", fill(n, i -> (float) r.nextGaussian() * 1e-16f)));
        out.add(new Row("halves", fill(n, i -> Math.round(r.nextGaussian() * 8) / 2f)));
        out.add(new Row("integers to 127", fill(n, i -> (i % 32 == 0) ? 127f : Math.round(r.nextGaussian() * 30) + 0.5f)));
        out.add(new Row("positive", fill(n, i -> 0.1f + r.nextFloat())));
        out.add(new Row("negative", fill(n, i -> -0.1f - r.nextFloat())));
        out.add(new Row("magnitudes per 16", fill(n, i -> (float) (r.nextGaussian() * Math.pow(10, (i / 16) % 9 - 4)))));
        out.add(new Row("sparse", fill(n, i -> r.nextInt(5) == 0 ? (float) r.nextGaussian() : 0f)));
        return out;
    }

    interface Gen {
        float at(int i);
    }

    static float[] fill(int n, Gen g) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = g.at(i);
        return a;
    }
}
