package org.jtune.train.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A seeded split of examples into train and validation. {@link #random} shuffles with
 * {@link SeededShuffle} and takes the first round(fraction * n) as validation; {@link #stratified}
 * does the same within each group (e.g. per label) so that every group keeps its share, then shuffles
 * each side once more so groups are interleaved. With 0 < fraction and n >= 2, both sides get at
 * least one example; train is never left empty. Neither method modifies its input.
 */
public record TrainValidationSplit<T>(List<T> train, List<T> validation) {
    public TrainValidationSplit {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
    }

    public static <T> TrainValidationSplit<T> random(List<T> items, double validationFraction, long seed) {
        checkFraction(validationFraction);
        List<T> shuffled = SeededShuffle.shuffle(items, seed);
        int k = validationCount(shuffled.size(), validationFraction);
        return new TrainValidationSplit<>(shuffled.subList(k, shuffled.size()), shuffled.subList(0, k));
    }

    public static <T, K> TrainValidationSplit<T> stratified(List<T> items, Function<T, K> group,
                                                           double validationFraction, long seed) {
        checkFraction(validationFraction);
        Map<K, List<T>> groups = new LinkedHashMap<>();   // first-seen order keeps the result deterministic
        for (T item : items) groups.computeIfAbsent(group.apply(item), g -> new ArrayList<>()).add(item);
        List<T> train = new ArrayList<>();
        List<T> validation = new ArrayList<>();
        long groupSeed = seed;
        for (List<T> members : groups.values()) {
            List<T> shuffled = SeededShuffle.shuffle(members, groupSeed++);
            int k = (int) Math.round(validationFraction * shuffled.size());
            validation.addAll(shuffled.subList(0, k));
            train.addAll(shuffled.subList(k, shuffled.size()));
        }
        return new TrainValidationSplit<>(SeededShuffle.shuffle(train, seed), SeededShuffle.shuffle(validation, seed + 1));
    }

    /** round(fraction * n), at most n-1 (train is never emptied), at least 1 when fraction > 0 and n >= 2. */
    static int validationCount(int n, double fraction) {
        int k = (int) Math.round(fraction * n);
        if (fraction > 0 && n >= 2) k = Math.max(1, k);
        return Math.min(k, Math.max(n - 1, 0));
    }

    private static void checkFraction(double f) {
        if (!(f >= 0 && f < 1)) throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + f);
    }
}
