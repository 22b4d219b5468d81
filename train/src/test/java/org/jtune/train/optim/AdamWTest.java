package org.jtune.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

class AdamWTest {
    /** torch.optim.AdamW's single-tensor formulas, in double. */
    static final class ReferenceAdamW {
        final double[] p, m, v;
        long t;

        ReferenceAdamW(float[] init) {
            p = new double[init.length];
            for (int i = 0; i < init.length; i++) p[i] = init[i];
            m = new double[init.length];
            v = new double[init.length];
        }

        void step(float[] g, double lr, double wd, double b1, double b2, double eps) {
            t++;
            double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }
    }

    private static float[] random(Rng rng, int n, float std) {
        return Tensor.randn(rng, std, n).toFloatArray();
    }

    @Test
    void matchesTorchFormulasOverSeveralStepsOnOddSizes() {
        Rng rng = new Rng(7);
        int[] sizes = {1, 3, 17, 31, 100, 1000, 70_001};
        List<Variable> params = new ArrayList<>();
        List<ReferenceAdamW> refs = new ArrayList<>();
        for (int k = 0; k < sizes.length; k++) {
            float[] init = random(rng, sizes[k], 1f);
            refs.add(new ReferenceAdamW(init));
            params.add(Params.param("w" + k, Tensor.of(init.clone(), sizes[k])));
        }
        double wd = 0.1, lr = 1e-2;
        AdamW opt = new AdamW(List.of(new ParamGroup("all", params, wd)), AdamW.Config.TORCH_DEFAULTS);
        for (int s = 0; s < 6; s++) {
            for (int k = 0; k < sizes.length; k++) {
                float[] g = random(rng, sizes[k], 0.5f);
                Params.setGrad(params.get(k), g);
                refs.get(k).step(g, lr, wd, 0.9, 0.999, 1e-8);
            }
            opt.step(lr);
        }
        assertEquals(6, opt.stepCount());
        for (int k = 0; k < sizes.length; k++) {
            float[] got = params.get(k).value().toFloatArray();
            double[] want = refs.get(k).p;
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-5 + 1e-5 * Math.abs(want[i]), "w" + k + "[" + i + "]");
            }
        }
    }

    private static float[] runSteps(int threads, int steps) {
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            Rng rng = new Rng(11);
            Variable p = Params.param("w", Tensor.randn(rng, 1f, 300_007));
            AdamW opt = new AdamW(List.of(new ParamGroup("g", List.of(p), 0.05)), AdamW.Config.TORCH_DEFAULTS);
            for (int s = 0; s < steps; s++) {
                Params.setGrad(p, Tensor.randn(rng, 1f, 300_007).toFloatArray());
                opt.step(1e-3);
            }
            return p.value().toFloatArray();
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void deterministicAcrossRunsAndThreadCounts() {
        float[] a = runSteps(2, 3), b = runSteps(2, 3), c = runSteps(1, 3);
        assertArrayEquals(a, b);
        assertArrayEquals(a, c);
    }

    @Test
    void restoredStateContinuesIdentically() throws JtuneException {
        Rng rng = new Rng(5);
        float[] init = random(rng, 513, 1);
        float[][] grads = new float[8][];
        for (int s = 0; s < grads.length; s++) grads[s] = random(rng, 513, 1);

        Variable a = Params.param("layer.weight", Tensor.of(init.clone(), 27, 19));
        AdamW optA = new AdamW(WeightDecayRule.split(List.of(a), 0.1), AdamW.Config.TORCH_DEFAULTS);
        for (int s = 0; s < 8; s++) {
            Params.setGrad(a, grads[s]);
            optA.step(1e-2);
        }

        Variable b = Params.param("layer.weight", Tensor.of(init.clone(), 27, 19));
        AdamW optB = new AdamW(WeightDecayRule.split(List.of(b), 0.1), AdamW.Config.TORCH_DEFAULTS);
        for (int s = 0; s < 3; s++) {
            Params.setGrad(b, grads[s]);
            optB.step(1e-2);
        }
        OptimizerState saved = optB.state().copy();
        float[] weightsAtSave = b.value().toFloatArray();

        Variable c = Params.param("layer.weight", Tensor.of(weightsAtSave, 27, 19));
        AdamW optC = new AdamW(WeightDecayRule.split(List.of(c), 0.1), AdamW.Config.TORCH_DEFAULTS);
        optC.restore(saved);
        assertEquals(3, optC.stepCount());
        for (int s = 3; s < 8; s++) {
            Params.setGrad(c, grads[s]);
            optC.step(1e-2);
        }
        assertArrayEquals(a.value().toFloatArray(), c.value().toFloatArray());
        assertArrayEquals(optA.state().tensors().get("layer.weight.exp_avg_sq").toFloatArray(),
                optC.state().tensors().get("layer.weight.exp_avg_sq").toFloatArray());
    }

    @Test
    void restoreRejectsMismatchedStateNamingTheTensor() {
        Variable p = Params.param("q_proj.lora_A.weight", Tensor.zeros(4, 8));
        AdamW opt = new AdamW(List.of(new ParamGroup("g", List.of(p), 0)), AdamW.Config.TORCH_DEFAULTS);
        var wrongShape = new OptimizerState("adamw", 2, Map.of("q_proj.lora_A.weight.exp_avg", Tensor.zeros(8, 4),
                "q_proj.lora_A.weight.exp_avg_sq", Tensor.zeros(4, 8)));
        var e1 = assertThrows(JtuneException.class, () -> opt.restore(wrongShape));
        assertTrue(e1.getMessage().contains("q_proj.lora_A.weight.exp_avg'") && e1.getMessage().contains("[8, 4]"), e1.getMessage());
        var missing = new OptimizerState("adamw", 2, Map.of("q_proj.lora_A.weight.exp_avg", Tensor.zeros(4, 8)));
        var e2 = assertThrows(JtuneException.class, () -> opt.restore(missing));
        assertTrue(e2.getMessage().contains("exp_avg_sq"), e2.getMessage());
        var extra = new OptimizerState("adamw", 2, Map.of("q_proj.lora_A.weight.exp_avg", Tensor.zeros(4, 8),
                "q_proj.lora_A.weight.exp_avg_sq", Tensor.zeros(4, 8), "v_proj.lora_A.weight.exp_avg", Tensor.zeros(4, 8)));
        var e3 = assertThrows(JtuneException.class, () -> opt.restore(extra));
        assertTrue(e3.getMessage().contains("v_proj.lora_A.weight.exp_avg"), e3.getMessage());
        var e4 = assertThrows(JtuneException.class, () -> opt.restore(new OptimizerState("sgd", 1, Map.of())));
        assertTrue(e4.getMessage().contains("sgd"), e4.getMessage());
        assertEquals(0, opt.stepCount(), "a failed restore changes nothing");
    }

    @Test
    void noDecayGroupIsNotDecayed() {
        // zero gradient: Adam's update is 0, so only decoupled decay moves the weights
        Variable w = Params.param("model.layers.0.mlp.up_proj.weight", Tensor.full(1f, 2, 3));
        Variable norm = Params.param("model.layers.0.input_layernorm.weight", Tensor.full(1f, 3));
        Variable bias = Params.param("score.bias", Tensor.full(1f, 2, 3));
        List<ParamGroup> groups = WeightDecayRule.split(List.of(w, norm, bias), 0.5);
        assertEquals(List.of("decay", "no_decay"), groups.stream().map(ParamGroup::name).toList());
        new AdamW(groups, AdamW.Config.TORCH_DEFAULTS).step(0.1);
        assertEquals((float) (1 - 0.1 * 0.5), w.value().get(1, 2));
        assertEquals(1f, norm.value().get(2));
        assertEquals(1f, bias.value().get(0, 0));
    }
}
