package org.jtune.train.prep;

import org.jtune.tensor.Tensor;

/**
 * A micro-batch ready for the model: ids, next-token targets (−100 where no loss is taken: prompts,
 * padding, example ends), positions (restarting at 0 for each packed example) and, when examples
 * are packed into one row, segment ids that keep attention inside each example (padding −1).
 *
 * @param trainedTokens number of targets that count in the loss
 */
public record Batch(Tensor ids, Tensor targets, Tensor positions, Tensor segments, int trainedTokens) {
    public static final int IGNORE = -100;

    public int rows() {
        return ids.size(0);
    }

    public int length() {
        return ids.size(1);
    }
}
