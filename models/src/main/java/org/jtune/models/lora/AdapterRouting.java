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

    public static AdapterRouting runs(List<Run> runs) {
        return new AdapterRouting(null, runs);
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
