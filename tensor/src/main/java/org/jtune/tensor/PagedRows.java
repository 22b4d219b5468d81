package org.jtune.tensor;

import java.util.Arrays;

/**
 * Where each sequence of a paged attention call ({@link Ops#pagedAttention}) keeps its query rows and its keys: sequence s
 * owns rows [rowStart[s], rowStart[s] + rowCount[s]) of the packed queries (and of the output), has lengths[s] positions
 * in its KV cache (the new ones included), and keeps position p in block tables[s][p / blockSize], at row p mod
 * blockSize of that block. Its query rows are its last rowCount[s] positions.
 */
public record PagedRows(int[][] tables, int[] rowStart, int[] rowCount, int[] lengths) {
    public PagedRows {
        int n = tables.length;
        if (rowStart.length != n || rowCount.length != n || lengths.length != n) {
            throw new IllegalArgumentException("paged attention: " + n + " block tables but " + rowStart.length + " row starts, " + rowCount.length
                    + " row counts and " + lengths.length + " lengths");
        }
    }

    /** Number of sequences. */
    public int count() {
        return tables.length;
    }

    /**
     * Checks every sequence against rows query rows and a pool of blocks × blockSize positions: rows in range and not
     * shared, at least as many positions as query rows, and a table entry naming a pool block for every position.
     */
    void check(int rows, int blocks, int blockSize) {
        boolean[] taken = new boolean[rows];
        for (int s = 0; s < count(); s++) {
            int start = rowStart[s], t = rowCount[s], len = lengths[s];
            if (t < 0 || start < 0 || start + t > rows) {
                throw new IllegalArgumentException("paged attention: sequence " + s + " has query rows [" + start + ", " + (start + t) + ") of " + rows);
            }
            for (int r = start; r < start + t; r++) {
                if (taken[r]) throw new IllegalArgumentException("paged attention: query row " + r + " belongs to two sequences (one is " + s + ")");
                taken[r] = true;
            }
            if (len < t) throw new IllegalArgumentException("paged attention: sequence " + s + " has " + t + " query rows but " + len + " positions");
            int needed = (len + blockSize - 1) / blockSize;
            if (tables[s].length < needed) {
                throw new IllegalArgumentException("paged attention: sequence " + s + " has " + len + " positions in blocks of " + blockSize
                        + " but a table of " + tables[s].length + " blocks");
            }
            for (int i = 0; i < needed; i++) {
                if (tables[s][i] < 0 || tables[s][i] >= blocks) {
                    throw new IllegalArgumentException("paged attention: sequence " + s + " names block " + tables[s][i] + " of a pool of " + blocks
                            + " (table " + Arrays.toString(Arrays.copyOf(tables[s], Math.min(needed, 8))) + (needed > 8 ? "…" : "") + ")");
                }
            }
        }
    }
}
