package org.jtune.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Seeded shuffle and train/validation split: deterministic, permutations, right sizes, no overlap. */
class ShuffleAndSplitTest {
    private static final List<Integer> HUNDRED = IntStream.range(0, 100).boxed().toList();

    @Test
    void shuffleIsADeterministicPermutation() {
        List<Integer> a = SeededShuffle.shuffle(HUNDRED, 42);
        assertEquals(a, SeededShuffle.shuffle(HUNDRED, 42));
        assertNotEquals(a, SeededShuffle.shuffle(HUNDRED, 43));
        assertNotEquals(HUNDRED, a);
        assertEquals(new HashSet<>(HUNDRED), new HashSet<>(a));
        assertEquals(100, a.size());
        assertEquals(IntStream.range(0, 100).boxed().toList(), HUNDRED);   // input untouched
        // java.util.Random is specified, so the order must match an independent implementation of that spec
        assertEquals(specShuffle(100, 42), a);
        assertEquals(specShuffle(7, -3), SeededShuffle.shuffle(IntStream.range(0, 7).boxed().toList(), -3));
        assertEquals(List.of(), SeededShuffle.shuffle(List.of(), 1));
    }

    /** Fisher-Yates over 0..n-1 with the generator written out from java.util.Random's javadoc. */
    private static List<Integer> specShuffle(int n, long seed) {
        long[] state = {(seed ^ 0x5DEECE66DL) & ((1L << 48) - 1)};
        java.util.function.IntUnaryOperator next = bits -> {
            state[0] = (state[0] * 0x5DEECE66DL + 0xBL) & ((1L << 48) - 1);
            return (int) (state[0] >>> (48 - bits));
        };
        List<Integer> out = new ArrayList<>(IntStream.range(0, n).boxed().toList());
        for (int i = n - 1; i > 0; i--) {
            int bound = i + 1;
            int r;
            if ((bound & -bound) == bound) {
                r = (int) ((bound * (long) next.applyAsInt(31)) >> 31);
            } else {
                int bits;
                do {
                    bits = next.applyAsInt(31);
                    r = bits % bound;
                } while (bits - r + (bound - 1) < 0);
            }
            java.util.Collections.swap(out, i, r);
        }
        return out;
    }

    @Test
    void shuffleIsRoughlyUniform() {
        // where element 0 lands over 5000 seeds: each of 5 positions ~1000 times
        int[] landed = new int[5];
        for (long seed = 0; seed < 5000; seed++) landed[SeededShuffle.shuffle(List.of(0, 1, 2, 3, 4), seed).indexOf(0)]++;
        for (int n : landed) assertTrue(n > 850 && n < 1150, java.util.Arrays.toString(landed));
    }

    @Test
    void randomSplit() {
        var split = TrainValidationSplit.random(HUNDRED, 0.1, 42);
        assertEquals(90, split.train().size());
        assertEquals(10, split.validation().size());
        Set<Integer> all = new HashSet<>(split.train());
        all.addAll(split.validation());
        assertEquals(new HashSet<>(HUNDRED), all);                     // disjoint and complete
        assertEquals(split, TrainValidationSplit.random(HUNDRED, 0.1, 42));
        assertNotEquals(split.validation(), TrainValidationSplit.random(HUNDRED, 0.1, 1).validation());
        assertEquals(SeededShuffle.shuffle(HUNDRED, 42).subList(0, 10), split.validation());
    }

    @Test
    void splitSizesAtTheEdges() {
        assertEquals(0, TrainValidationSplit.random(HUNDRED, 0.0, 1).validation().size());
        assertEquals(1, TrainValidationSplit.random(List.of(1, 2, 3), 0.01, 1).validation().size()); // at least one
        assertEquals(1, TrainValidationSplit.random(List.of(1, 2), 0.9, 1).train().size());          // train keeps one
        assertEquals(1, TrainValidationSplit.random(List.of(1), 0.5, 1).train().size());
        assertThrows(IllegalArgumentException.class, () -> TrainValidationSplit.random(HUNDRED, 1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> TrainValidationSplit.random(HUNDRED, -0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> TrainValidationSplit.random(HUNDRED, Double.NaN, 1));
    }

    @Test
    void stratifiedSplitKeepsEachGroupsShare() {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 60; i++) items.add("a" + i);
        for (int i = 0; i < 30; i++) items.add("b" + i);
        for (int i = 0; i < 10; i++) items.add("c" + i);
        var split = TrainValidationSplit.stratified(items, s -> s.charAt(0), 0.2, 7);
        Map<Character, Long> val = split.validation().stream().collect(Collectors.groupingBy(s -> s.charAt(0), Collectors.counting()));
        assertEquals(Map.of('a', 12L, 'b', 6L, 'c', 2L), val);
        assertEquals(80, split.train().size());
        Set<String> all = new HashSet<>(split.train());
        all.addAll(split.validation());
        assertEquals(100, all.size());
        assertEquals(split, TrainValidationSplit.stratified(items, s -> s.charAt(0), 0.2, 7));
    }
}
