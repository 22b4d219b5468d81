package org.jtune.train.optim;

import org.jtune.autograd.Variable;
import org.jtune.tensor.Tensor;

/** Parameters for optimizer tests: named leaf variables whose gradient a test sets directly. */
public final class Params {
    private Params() {}

    public static Variable param(String name, Tensor value) {
        return Variable.parameter(value).named(name);
    }

    /** Makes g p's gradient, as a backward pass after zeroGrad would deliver it. */
    public static void setGrad(Variable p, float[] g) {
        p.zeroGrad();
        p.accumulateGrad(Tensor.of(g.clone(), p.shape()));
    }
}
