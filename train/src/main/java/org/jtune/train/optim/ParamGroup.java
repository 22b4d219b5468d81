package org.jtune.train.optim;

import java.util.List;

/**
 * Parameters that share optimizer settings. Only weight decay differs between groups today (norms,
 * biases and other 1-D tensors get none, see {@link WeightDecayRule}); the learning rate comes from
 * the schedule and is common to all groups.
 */
public record ParamGroup(String name, List<Parameter> params, double weightDecay) {
    public ParamGroup {
        params = List.copyOf(params);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("group " + name + ": weight decay must be >= 0, got " + weightDecay);
    }
}
