package org.jtune.serve.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TokenLogprobsTest {
    /** Scalar reference: log softmax by the definition, in double, top-k by a full sort (ties: lower id first). */
    static double logprob(float[] z, int i) {
        double sum = 0;
        for (float x : z) sum += Math.exp(x);
        return z[i] - Math.log(sum);
    }

    @Test
    void matchesTheScalarReferenceOnRandomOddSizes() {
        Random r = new Random(3);
        for (int v : new int[] {1, 7, 33, 511, 1001}) {
            float[] z = new float[v];
            for (int i = 0; i < v; i++) z[i] = (float) (r.nextGaussian() * 4);
            if (v > 3) z[2] = z[1]; // a tie
            int chosen = r.nextInt(v);
            int k = Math.min(5, v);
            GeneratedToken t = TokenLogprobs.of(z, chosen, k, 0);
            assertEquals(logprob(z, chosen), t.logprob(), 1e-9);
            int[] expected = IntStream.range(0, v).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -z[i]).thenComparingInt(i -> i)).limit(k).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, t.topIds(), "top ids for V=" + v);
            for (int i = 0; i < k; i++) assertEquals(logprob(z, expected[i]), t.topLogprobs()[i], 1e-9);
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        float[] z = {1000f, 999f, -1000f};
        GeneratedToken t = TokenLogprobs.of(z, 1, 2, 0);
        assertEquals(-1 - Math.log(1 + Math.exp(-1)), t.logprob(), 1e-9);
        assertEquals(-Math.log(1 + Math.exp(-1)), t.topLogprobs()[0], 1e-9);
    }
}
