package org.jtune.train.optim;

import java.util.Arrays;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.tensor.Tensor;

/**
 * Checks a saved optimizer state against the live parameters before restoring it: every buffer
 * present with the parameter's shape, nothing extra. Messages name the tensor.
 */
final class StateBuffers {
    private StateBuffers() {}

    /** A deferred copy of the saved buffer {@code p.name() + suffix} into {@code into}, after checking it. */
    static Runnable copyInto(OptimizerState saved, Parameter p, String suffix, float[] into) throws JtuneException {
        String key = p.name() + suffix;
        Tensor t = saved.tensors().get(key);
        if (t == null) throw new JtuneException("optimizer state has no tensor '" + key + "' for parameter " + p.name());
        if (!Arrays.equals(t.shape(), p.value().shape())) {
            throw new JtuneException("optimizer state tensor '" + key + "' has shape " + Arrays.toString(t.shape())
                    + " but parameter " + p.name() + " has shape " + Arrays.toString(p.value().shape()));
        }
        float[] data = t.toFloatArray();
        return () -> System.arraycopy(data, 0, into, 0, into.length);
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
