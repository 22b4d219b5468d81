package org.jtune.tensor;

import java.util.Arrays;

/**
 * The fused optimizer updates, as {@link Ops} offers the other kernels: each checks that parameter,
 * gradient and state agree and runs on the backend that owns the parameter's memory, in place.
 */
public final class OptimizerOps {
    private OptimizerOps() {}

    /** One AdamW step of {@code param} (see {@link AdamWStep}); m and v are its moment buffers, updated in place. */
    public static void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        check("adamw", param, grad, m, v);
        Backend be = Placement.owner(param);
        be.adamw(param, Placement.data("adamw", be, grad), m, v, step);
    }

    /** One SGD step of {@code param} (see {@link SgdStep}); buf is its momentum buffer (null without momentum). */
    public static void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step) {
        check("sgd", param, grad, buf);
        Backend be = Placement.owner(param);
        be.sgd(param, Placement.data("sgd", be, grad), buf, step);
    }

    private static void check(String op, Tensor param, Tensor grad, Tensor... state) {
        OpChecks.requireDenseF32(op, param);
        OpChecks.requireFloating(op, grad);
        OpChecks.requireSameShape(op, param, grad);
        for (Tensor s : state) {
            if (s == null) continue;
            OpChecks.requireDenseF32(op, s);
            if (!Arrays.equals(s.shape(), param.shape()) || !s.device().equals(param.device())) {
                throw new IllegalArgumentException(op + ": state " + s + " on " + s.device() + " for a parameter " + param + " on " + param.device());
            }
        }
    }
}
