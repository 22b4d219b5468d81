package org.jtune.train.data.split;

import java.util.ArrayList;
import java.util.List;
import org.jtune.train.data.SeededShuffle;

/**
 * Assigns whole groups of examples to splits so that each split gets its target count and, within
 * each stratum (label), its share of that stratum. Targets come from ratios by the largest-remainder
 * method (Hamilton's apportionment), or are given as counts, with the rows left over going to an
 * extra "unused" split. Groups are visited in a seeded random order (not largest first, which would
 * send every duplicate group to the split with the largest target); each goes to the split, among
 * those with room for it, that is furthest below the stratum's fractional target
 * n_label × target_split / n; ties go to the split with the most room, then to the earlier split.
 * When no split has room (a large group late in the order) the one with the most room takes it and
 * overshoots its target. With groups of one this meets every split's target exactly and every
 * stratum's share to within one example per split.
 */
final class SplitAllocation {
    private SplitAllocation() {}

    /** Largest-remainder apportionment of n over the ratios (which sum to 1). */
    static long[] targets(long n, double[] ratios) {
        long[] t = new long[ratios.length];
        double[] rest = new double[ratios.length];
        long given = 0;
        for (int s = 0; s < ratios.length; s++) {
            double exact = ratios[s] * n;
            t[s] = (long) Math.floor(exact);
            rest[s] = exact - t[s];
            given += t[s];
        }
        while (given < n) {
            int best = 0;
            for (int s = 1; s < ratios.length; s++) if (rest[s] > rest[best]) best = s;
            t[best]++;
            rest[best] = -1;
            given++;
        }
        return t;
    }

    /**
     * @param sizes       the size of each group
     * @param stratumOf   the stratum of each group (0 .. strata-1)
     * @param strata      the number of strata
     * @param targets     the target count of each split (summing to the number of examples)
     * @param seed        orders the groups
     * @return the split of each group
     */
    static int[] allocate(int[] sizes, int[] stratumOf, int strata, long[] targets, long seed) {
        int groups = sizes.length;
        int splits = targets.length;
        long n = 0;
        long[] stratumSize = new long[strata];
        for (int g = 0; g < groups; g++) {
            n += sizes[g];
            stratumSize[stratumOf[g]] += sizes[g];
        }
        double[][] want = new double[strata][splits];
        for (int l = 0; l < strata; l++) {
            for (int s = 0; s < splits; s++) want[l][s] = n == 0 ? 0 : (double) stratumSize[l] * targets[s] / n;
        }
        List<Integer> order = new ArrayList<>(groups);
        for (int g = 0; g < groups; g++) order.add(g);
        order = SeededShuffle.shuffle(order, seed);

        long[] taken = new long[splits];
        long[][] takenInStratum = new long[strata][splits];
        int[] splitOf = new int[groups];
        for (int g : order) {
            int l = stratumOf[g];
            int best = -1;
            for (int s = 0; s < splits; s++) {
                if (targets[s] - taken[s] < sizes[g]) continue;
                if (best < 0 || better(want[l][s] - takenInStratum[l][s], targets[s] - taken[s],
                        want[l][best] - takenInStratum[l][best], targets[best] - taken[best])) {
                    best = s;
                }
            }
            if (best < 0) {   // no split has room: the one with the most room overshoots
                best = 0;
                for (int s = 1; s < splits; s++) if (targets[s] - taken[s] > targets[best] - taken[best]) best = s;
            }
            splitOf[g] = best;
            taken[best] += sizes[g];
            takenInStratum[l][best] += sizes[g];
        }
        return splitOf;
    }

    private static boolean better(double deficit, long room, double bestDeficit, long bestRoom) {
        if (deficit != bestDeficit) return deficit > bestDeficit;
        return room > bestRoom;
    }
}
