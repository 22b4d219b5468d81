package org.jtune.tensor;

/** Reductions along one dimension. VAR uses the correction given to the kernel (1 = unbiased, like torch.var). */
public enum ReduceOp {
    SUM, MEAN, MAX, MIN, VAR
}
