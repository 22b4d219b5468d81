package org.jtune.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SgdTest {
    /** torch.optim.SGD in double. */
    private static void referenceStep(double[] p, double[] buf, float[] g, double lr, double wd, double mu, double damp,
                                      boolean nesterov, boolean first) {
        for (int i = 0; i < p.length; i++) {
            double d = g[i] + wd * p[i];
            if (mu != 0) {
                buf[i] = first ? d : mu * buf[i] + (1 - damp) * d;
                d = nesterov ? d + mu * buf[i] : buf[i];
            }
            p[i] -= lr * d;
        }
    }

    private static void check(Sgd.Config config, double wd) {
        Rng rng = new Rng(19);
        int n = 1031;
        float[] init = Tensor.randn(rng, 1, n).toFloatArray();
        double[] ref = new double[n], buf = new double[n];
        for (int i = 0; i < n; i++) ref[i] = init[i];
        Variable p = Params.param("w", Tensor.of(init.clone(), n));
        Sgd opt = new Sgd(List.of(new ParamGroup("g", List.of(p), wd)), config);
        for (int s = 0; s < 5; s++) {
            float[] g = Tensor.randn(rng, 1, n).toFloatArray();
            Params.setGrad(p, g);
            referenceStep(ref, buf, g, 0.05, wd, config.momentum(), config.dampening(), config.nesterov(), s == 0);
            opt.step(0.05);
        }
        float[] got = p.value().toFloatArray();
        for (int i = 0; i < n; i++) assertEquals(ref[i], got[i], 1e-5 * (1 + Math.abs(ref[i])), config + " [" + i + "]");
    }

    @Test
    void matchesTorchFormulas() {
        check(Sgd.Config.PLAIN, 0);
        check(Sgd.Config.PLAIN, 0.01);
        check(new Sgd.Config(0.9, 0, false), 0.01);
        check(new Sgd.Config(0.9, 0.1, false), 0);
        check(new Sgd.Config(0.9, 0, true), 0.001);
    }

    @Test
    void momentumStateRestoresExactly() throws JtuneException {
        Rng rng = new Rng(23);
        float[] init = Tensor.randn(rng, 1, 100).toFloatArray();
        float[][] grads = new float[6][];
        for (int s = 0; s < 6; s++) grads[s] = Tensor.randn(rng, 1, 100).toFloatArray();
        var config = new Sgd.Config(0.9, 0, true);
        Variable a = Params.param("w", Tensor.of(init.clone(), 10, 10));
        Sgd optA = new Sgd(List.of(new ParamGroup("g", List.of(a), 0)), config);
        OptimizerState mid = null;
        float[] midWeights = null;
        for (int s = 0; s < 6; s++) {
            if (s == 2) {
                mid = optA.state().copy();
                midWeights = a.value().toFloatArray();
            }
            Params.setGrad(a, grads[s]);
            optA.step(0.1);
        }
        Variable b = Params.param("w", Tensor.of(midWeights, 10, 10));
        Sgd optB = new Sgd(List.of(new ParamGroup("g", List.of(b), 0)), config);
        optB.restore(mid);
        for (int s = 2; s < 6; s++) {
            Params.setGrad(b, grads[s]);
            optB.step(0.1);
        }
        assertArrayEquals(a.value().toFloatArray(), b.value().toFloatArray());
    }
}
