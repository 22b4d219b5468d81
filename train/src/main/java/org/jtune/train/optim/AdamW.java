package org.jtune.train.optim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.OptimizerOps;
import org.jtune.tensor.Tensor;

/**
 * AdamW as torch.optim.AdamW (amsgrad off, no maximize): decoupled weight decay per group, bias-corrected
 * moments, ε added to √v̂. Each parameter keeps a first moment (exp_avg) and second moment
 * (exp_avg_sq) of its shape on its device; every step updates each tensor with the fused AdamW
 * kernel ({@link OptimizerOps#adamw}; the formulas are on {@link AdamWStep}).
 */
public final class AdamW implements Optimizer {
    /** Hyper-parameters; the torch defaults are β1 0.9, β2 0.999, ε 1e-8. */
    public record Config(double beta1, double beta2, double eps) {
        public static final Config TORCH_DEFAULTS = new Config(0.9, 0.999, 1e-8);

        public Config {
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("adam beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("adam beta2 must be in [0, 1), got " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("adam epsilon must be > 0, got " + eps);
        }
    }

    public static final String KIND = "adamw";
    static final String EXP_AVG = ".exp_avg", EXP_AVG_SQ = ".exp_avg_sq";

    private final List<ParamGroup> groups;
    private final Config config;
    private final Map<String, Tensor> expAvg = new LinkedHashMap<>(), expAvgSq = new LinkedHashMap<>();
    private long step;

    public AdamW(List<ParamGroup> groups, Config config) {
        this.groups = List.copyOf(groups);
        this.config = config;
        for (ParamGroup g : this.groups) {
            for (Variable p : g.params()) {
                if (expAvg.containsKey(p.name())) throw new IllegalArgumentException("parameter " + p.name() + " appears twice");
                expAvg.put(p.name(), StateBuffers.zerosLike(p));
                expAvgSq.put(p.name(), StateBuffers.zerosLike(p));
            }
        }
    }

    public Config config() {
        return config;
    }

    @Override
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        step++;
        for (ParamGroup g : groups) {
            AdamWStep c = AdamWStep.of(lr * g.lrScale(), g.weightDecay(), config.beta1(), config.beta2(), config.eps(), step);
            for (Variable p : g.params()) {
                OptimizerOps.adamw(p.value(), ParamGroup.gradientOf(p), expAvg.get(p.name()), expAvgSq.get(p.name()), c);
            }
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    @Override
    public List<ParamGroup> groups() {
        return groups;
    }

    @Override
    public OptimizerState state() {
        Map<String, Tensor> t = new HashMap<>();
        for (ParamGroup g : groups) {
            for (Variable p : g.params()) {
                t.put(p.name() + EXP_AVG, StateBuffers.onHost(expAvg.get(p.name())));
                t.put(p.name() + EXP_AVG_SQ, StateBuffers.onHost(expAvgSq.get(p.name())));
            }
        }
        return new OptimizerState(KIND, step, t);
    }

    @Override
    public void restore(OptimizerState saved) throws JtuneException {
        if (!KIND.equals(saved.kind())) throw new JtuneException("optimizer state is of kind '" + saved.kind() + "', expected '" + KIND + "'");
        List<Runnable> copies = new ArrayList<>();
        for (ParamGroup g : groups) {
            for (Variable p : g.params()) {
                copies.add(StateBuffers.copyInto(saved, p, EXP_AVG, expAvg.get(p.name())));
                copies.add(StateBuffers.copyInto(saved, p, EXP_AVG_SQ, expAvgSq.get(p.name())));
            }
        }
        StateBuffers.rejectUnknown(saved, expAvg.keySet(), EXP_AVG, EXP_AVG_SQ);
        copies.forEach(Runnable::run); // only once everything checked out: a failed restore leaves the state as it was
        step = saved.step();
    }
}
