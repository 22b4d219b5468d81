package org.jtune.autograd;

import org.jtune.tensor.Tensor;

/**
 * The backward rule of a single-output op: given the gradient of the loss with respect to the op's
 * output, the gradients with respect to each input, in input order (null for an input that needs
 * none). Returned tensors must have the input's shape; they may be views of {@code grad} but must
 * never alias an op's saved values.
 */
@FunctionalInterface
public interface Backward {
    Tensor[] apply(Tensor grad);

    /** The rule of an op with several outputs: {@code grads[i]} is null when output i received no gradient. */
    @FunctionalInterface
    interface Multi {
        Tensor[] apply(Tensor[] grads);
    }
}
