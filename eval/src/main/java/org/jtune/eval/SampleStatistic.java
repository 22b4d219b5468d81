package org.jtune.eval;

import java.util.Map;

/**
 * Recomputes an evaluation's headline metrics on a multiset of its examples (indices may repeat), from
 * per-example statistics kept by the evaluator. The paired bootstrap calls it once per resample, so an
 * implementation is O(indices.length) and does no text processing.
 */
@FunctionalInterface
public interface SampleStatistic {
    Map<String, Double> on(int[] indices);
}
