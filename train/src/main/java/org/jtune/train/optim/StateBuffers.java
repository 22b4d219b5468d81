package org.jtune.train.optim;

import java.util.Arrays;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.BufferPool;
import org.jtune.tensor.Device;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * An optimizer's per-parameter state tensors: allocated zeroed on the parameter's device through its
 * backend (outside any step-scoped buffer pool: they live as long as the optimizer), shown to
 * checkpoints on the host, and checked against the live parameters before a saved state is restored:
 * every buffer present with the parameter's shape, nothing extra. Messages name the tensor.
 */
final class StateBuffers {
    private StateBuffers() {}

    /** A zeroed F32 buffer of p's shape on p's device. */
    static Tensor zerosLike(Variable p) {
        return BufferPool.outside(() -> Ops.zerosOn(p.value(), p.shape()));
    }

    /** The buffer as a checkpoint reads it: itself on the host, else a host copy. */
    static Tensor onHost(Tensor t) {
        return t.to(Device.CPU);
    }

    /** A deferred copy of the saved buffer {@code p.name() + suffix} into {@code into}, after checking it. */
    static Runnable copyInto(OptimizerState saved, Variable p, String suffix, Tensor into) throws JtuneException {
        String key = p.name() + suffix;
        Tensor t = saved.tensors().get(key);
        if (t == null) throw new JtuneException("optimizer state has no tensor '" + key + "' for parameter " + p.name());
        if (!Arrays.equals(t.shape(), p.shape())) {
            throw new JtuneException("optimizer state tensor '" + key + "' has shape " + Arrays.toString(t.shape())
                    + " but parameter " + p.name() + " has shape " + Arrays.toString(p.shape()));
        }
        if (!t.dtype().isFloating()) throw new JtuneException("optimizer state tensor '" + key + "' is " + t.dtype() + ", not floating");
        return () -> Ops.copyInto(t, into);
    }

    /** Fails on a saved tensor that belongs to no parameter of this optimizer (a different model or adapter). */
    static void rejectUnknown(OptimizerState saved, Set<String> paramNames, String... suffixes) throws JtuneException {
        outer:
        for (String key : saved.tensors().keySet()) {
            for (String s : suffixes) {
                if (key.endsWith(s) && paramNames.contains(key.substring(0, key.length() - s.length()))) continue outer;
            }
            throw new JtuneException("optimizer state tensor '" + key + "' matches no parameter being trained"
                    + " (was the checkpoint made with another model, adapter or target-module list?)");
        }
    }
}
