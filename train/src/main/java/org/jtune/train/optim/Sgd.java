package org.jtune.train.optim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.OptimizerOps;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Tensor;

/**
 * Stochastic gradient descent as torch.optim.SGD: optional momentum (with dampening and Nesterov),
 * weight decay per group added to the gradient (L2, not decoupled). With momentum each parameter
 * keeps a momentum_buffer on its device, set from the gradient on the first step; the fused SGD
 * kernel ({@link OptimizerOps#sgd}; the formulas are on {@link SgdStep}) does the update.
 */
public final class Sgd implements Optimizer {
    public record Config(double momentum, double dampening, boolean nesterov) {
        public static final Config PLAIN = new Config(0, 0, false);

        public Config {
            if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("sgd momentum must be in [0, 1), got " + momentum);
            if (!(dampening >= 0 && dampening <= 1)) throw new IllegalArgumentException("sgd dampening must be in [0, 1], got " + dampening);
            if (nesterov && (momentum == 0 || dampening != 0)) {
                throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and dampening 0");
            }
        }
    }

    public static final String KIND = "sgd";
    static final String MOMENTUM_BUFFER = ".momentum_buffer";

    private final List<ParamGroup> groups;
    private final Config config;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final List<String> names = new ArrayList<>();
    private long step;

    public Sgd(List<ParamGroup> groups, Config config) {
        this.groups = List.copyOf(groups);
        this.config = config;
        for (ParamGroup g : this.groups) {
            for (Variable p : g.params()) {
                if (names.contains(p.name())) throw new IllegalArgumentException("parameter " + p.name() + " appears twice");
                names.add(p.name());
                if (config.momentum() != 0) buffers.put(p.name(), StateBuffers.zerosLike(p));
            }
        }
    }

    public Config config() {
        return config;
    }

    @Override
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        for (ParamGroup g : groups) {
            SgdStep c = new SgdStep((float) (lr * g.lrScale()), (float) g.weightDecay(), (float) config.momentum(),
                    (float) (1 - config.dampening()), config.nesterov(), step == 0);
            for (Variable p : g.params()) {
                OptimizerOps.sgd(p.value(), ParamGroup.gradientOf(p), buffers.get(p.name()), c);
            }
        }
        step++;
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
                Tensor b = buffers.get(p.name());
                if (b != null) t.put(p.name() + MOMENTUM_BUFFER, StateBuffers.onHost(b));
            }
        }
        return new OptimizerState(KIND, step, t);
    }

    @Override
    public void restore(OptimizerState saved) throws JtuneException {
        if (!KIND.equals(saved.kind())) throw new JtuneException("optimizer state is of kind '" + saved.kind() + "', expected '" + KIND + "'");
        List<Runnable> copies = new ArrayList<>();
        // a momentum buffer exists from the first step on; a state saved at step 0 has none
        if (!buffers.isEmpty() && saved.step() > 0) {
            for (ParamGroup g : groups) {
                for (Variable p : g.params()) copies.add(StateBuffers.copyInto(saved, p, MOMENTUM_BUFFER, buffers.get(p.name())));
            }
        }
        StateBuffers.rejectUnknown(saved, buffers.keySet(), MOMENTUM_BUFFER);
        copies.forEach(Runnable::run);
        step = saved.step();
    }
}
