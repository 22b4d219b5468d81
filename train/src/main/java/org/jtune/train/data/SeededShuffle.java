package org.jtune.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Deterministic shuffling: the same list and seed give the same order on every JVM and machine.
 * Fisher-Yates (Knuth, TAOCP vol. 2, algorithm P) driven by {@link java.util.Random}, whose
 * generator (a 48-bit LCG) and {@code nextInt(bound)} are fixed by its specification.
 * The input is never modified.
 */
public final class SeededShuffle {
    private SeededShuffle() {}

    public static <T> List<T> shuffle(List<T> items, long seed) {
        List<T> out = new ArrayList<>(items);
        Random random = new Random(seed);
        for (int i = out.size() - 1; i > 0; i--) {
            Collections.swap(out, i, random.nextInt(i + 1));
        }
        return out;
    }
}
