package org.jtune.train.checkpoint;

/**
 * Where the data loader is: the epoch, and the index of the next example in that epoch's shuffled
 * order (the order is a function of the seed and the epoch, so it need not be saved).
 */
public record DataCursor(int epoch, long index) {
    public static final DataCursor START = new DataCursor(0, 0);

    public DataCursor {
        if (epoch < 0 || index < 0) throw new IllegalArgumentException("data cursor must be >= 0, got epoch " + epoch + " index " + index);
    }
}
