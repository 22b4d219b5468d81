package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The stop message of a diverging run: the step, the first non-finite gradient or weight, and the last good checkpoint. */
class NonFiniteGuardTest {
    @Test
    void namesStepTensorAndTheLastGoodCheckpoint() throws Exception {
        Variable a = Variable.parameter(Tensor.ones(2, 3)).named("lora_A"), b = Variable.parameter(Tensor.ones(3, 2)).named("lora_B");
        a.accumulateGrad(Tensor.zeros(2, 3));
        b.accumulateGrad(Tensor.zeros(3, 2));
        NonFiniteGuard guard = new NonFiniteGuard();
        guard.checkLoss(1, 2.5, List.of(a, b));
        guard.checkGradNorm(1, 0.7, List.of(a, b));
        guard.saved(Path.of("run/checkpoints/checkpoint-000040"), 40);
        b.grad().set(Float.POSITIVE_INFINITY, 2, 1);
        JtuneException e = assertThrows(JtuneException.class, () -> guard.checkLoss(41, Double.NaN, List.of(a, b)));
        assertEquals("step 41: the loss is NaN (first in the gradient of lora_B: +Inf at [2, 1]); training stopped. The last good checkpoint is "
                + Path.of("run/checkpoints/checkpoint-000040") + " (step 40); nothing after it was saved. Lower learning_rate or set "
                + "max_grad_norm and start a new run (resuming this one would diverge again at the same step)", e.getMessage());
        e = assertThrows(JtuneException.class, () -> guard.checkGradNorm(41, Double.POSITIVE_INFINITY, List.of(a, b)));
        assertTrue(e.getMessage().startsWith("step 41: the gradient norm is Infinity"), e.getMessage());
        b.grad().set(0f, 2, 1);
        a.value().set(Float.NaN, 1, 2);
        e = assertThrows(JtuneException.class, () -> guard.checkWeights(42, List.of(a, b)));
        assertTrue(e.getMessage().contains("step 42: the weights went non-finite after the update (first in the weight lora_A: NaN at [1, 2])"),
                e.getMessage());
    }
}
