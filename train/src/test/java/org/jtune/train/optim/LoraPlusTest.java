package org.jtune.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * LoRA+: the B matrices form groups of their own at ratio × the rate, keeping their weight decay; under AdamW and SGD a
 * B matrix then moves exactly as it would alone at that rate (AdamW and SGD themselves are checked against PyTorch in
 * their own tests), and everything else as without LoRA+.
 */
class LoraPlusTest {
    private static Variable param(String name, long seed, int... shape) {
        return Params.param(name, Tensor.randn(new Rng(seed), 0.5f, shape));
    }

    private static float[] grad(long seed, int n) {
        return Tensor.randn(new Rng(seed), 1f, n).toFloatArray();
    }

    @Test
    void bMatricesGetTheirOwnGroupAtTheRatio() {
        Variable a = param("m.q_proj.lora_A.weight", 1, 4, 6), b = param("m.q_proj.lora_B.weight", 2, 5, 4), norm = param("m.norm.weight", 3, 6);
        List<ParamGroup> groups = LoraPlus.groups(WeightDecayRule.split(List.of(a, b, norm), 0.1), 16);
        assertEquals(List.of("decay", "decay_lora_B", "no_decay"), groups.stream().map(ParamGroup::name).toList());
        assertEquals(List.of(a), groups.get(0).params());
        assertEquals(List.of(b), groups.get(1).params());
        assertEquals(16, groups.get(1).lrScale());
        assertEquals(0.1, groups.get(1).weightDecay(), "B keeps its decay");
        assertEquals(1, groups.get(2).lrScale());
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("g", List.of(a), 0, 0));
    }

    @Test
    void underAdamWAndSgdABMatrixMovesAsAloneAtRatioTimesTheRate() {
        for (boolean adam : List.of(true, false)) {
            Variable a = param("m.v_proj.lora_A.weight", 11, 3, 7), b = param("m.v_proj.lora_B.weight", 12, 9, 3);
            Variable a2 = param("m.v_proj.lora_A.weight", 11, 3, 7), b2 = param("m.v_proj.lora_B.weight", 12, 9, 3);
            Optimizer plus = optimizer(adam, LoraPlus.groups(WeightDecayRule.split(List.of(a, b), 0.01), 4));
            Optimizer aAlone = optimizer(adam, WeightDecayRule.split(List.of(a2), 0.01));
            Optimizer bAlone = optimizer(adam, WeightDecayRule.split(List.of(b2), 0.01));
            for (int step = 0; step < 5; step++) {
                float[] ga = grad(100 + step, 21), gb = grad(200 + step, 27);
                Params.setGrad(a, ga);
                Params.setGrad(b, gb);
                Params.setGrad(a2, ga);
                Params.setGrad(b2, gb);
                double lr = 1e-2 * (1 + step);
                plus.step(lr);
                aAlone.step(lr);
                bAlone.step(4 * lr);
            }
            assertArrayEquals(a2.value().toFloatArray(), a.value().toFloatArray(), (adam ? "AdamW" : "SGD") + ": A as without LoRA+");
            assertArrayEquals(b2.value().toFloatArray(), b.value().toFloatArray(), (adam ? "AdamW" : "SGD") + ": B at 4 × the rate");
        }
    }

    private static Optimizer optimizer(boolean adam, List<ParamGroup> groups) {
        return adam ? new AdamW(groups, AdamW.Config.TORCH_DEFAULTS) : new Sgd(groups, new Sgd.Config(0.9, 0, false));
    }
}
