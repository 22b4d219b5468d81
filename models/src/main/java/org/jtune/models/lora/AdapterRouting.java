package org.jtune.models.lora;

import java.util.List;

/**
 * Which LoRA adapters apply to which rows of a forward pass. Either every row gets the same set of
 * adapters (training, or a batch that all asked for one adapter; several active adapters add up, as
 * in PEFT), or the rows are cut into runs, each with its own adapter or none — the rows of one
 * sequence form a run when a server batches requests for different adapters together.
 *
 * @param uniform adapters applied to every row (empty: the base model alone), or null when {@link #runs} is used
 * @param runs    consecutive row ranges in row order covering all rows, or null for uniform routing
 */
public record AdapterRouting(List<String> uniform, List<Run> runs) {
    /** Rows [start, start + length) use {@code adapter} (null: the base model). */
    public record Run(int start, int length, String adapter) {}

    public static final AdapterRouting BASE = new AdapterRouting(List.of(), null);

    public AdapterRouting {
        if ((uniform == null) == (runs == null)) throw new IllegalArgumentException("routing: give either uniform adapters or runs");
        uniform = uniform == null ? null : List.copyOf(uniform);
        if (runs != null) {
            runs = List.copyOf(runs);
            int at = 0;
            for (Run r : runs) {
                if (r.start() != at || r.length() < 0) throw new IllegalArgumentException("routing: runs must be consecutive from row 0, got " + runs);
                at += r.length();
            }
        }
    }

    public static AdapterRouting uniform(List<String> adapters) {
        return new AdapterRouting(adapters, null);
    }

    /** Routing by runs; neighbouring runs with the same adapter are merged into one (one multiply for their rows). */
    public static AdapterRouting runs(List<Run> runs) {
        List<Run> merged = new java.util.ArrayList<>(runs.size());
        for (Run r : runs) {
            Run last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && java.util.Objects.equals(last.adapter(), r.adapter())) {
                merged.set(merged.size() - 1, new Run(last.start(), last.length() + r.length(), r.adapter()));
            } else {
                merged.add(r);
            }
        }
        return new AdapterRouting(null, merged);
    }

    /**
     * The routing of a subset of the rows, gathered in ascending order (a mixture-of-experts layer sends each expert the
     * rows routed to it): uniform routing is unchanged, runs keep each picked row's adapter.
     */
    public AdapterRouting pick(int[] ascendingRows) {
        if (runs == null) return this;
        List<Run> picked = new java.util.ArrayList<>();
        int i = 0;
        for (Run r : runs) {
            int n = 0;
            while (i < ascendingRows.length && ascendingRows[i] < r.start() + r.length()) {
                if (ascendingRows[i] < r.start() || (i > 0 && ascendingRows[i] <= ascendingRows[i - 1])) {
                    throw new IllegalArgumentException("routing: rows must ascend, got " + java.util.Arrays.toString(ascendingRows));
                }
                i++;
                n++;
            }
            if (n > 0) picked.add(new Run(i - n, n, r.adapter()));
        }
        if (i < ascendingRows.length) throw new IllegalArgumentException("routing: row " + ascendingRows[i] + " beyond the runs' " + rows() + " rows");
        return runs(picked);
    }

    /** True when no row uses any adapter. */
    public boolean isBase() {
        if (uniform != null) return uniform.isEmpty();
        return runs.stream().allMatch(r -> r.adapter() == null);
    }

    /** Total rows covered by the runs (uniform routing covers any number). */
    public int rows() {
        return runs == null ? -1 : runs.stream().mapToInt(Run::length).sum();
    }
}
