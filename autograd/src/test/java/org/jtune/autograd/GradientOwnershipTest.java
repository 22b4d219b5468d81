package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The engine keeps a rule's freshly made gradient as a leaf's gradient (no copy) and adds into a
 * freshly made pending gradient in place; gradients a rule passes through (add, views) are shared
 * and must be copied. These tests change one gradient in place, as an optimizer's clipping does,
 * and check that no other gradient, upstream tensor or value moves with it.
 */
class GradientOwnershipTest {
    private static Variable param(float... v) {
        return Variable.parameter(Tensor.of(v.clone(), v.length));
    }

    @Test
    void leavesFedTheSamePassedThroughGradientGetTheirOwnCopies() {
        Variable a = param(1, 2), b = param(3, 4);
        Tensor upstream = Tensor.of(new float[] {1, 1}, 2);
        Arithmetic.add(a, b).backward(upstream); // add's rule hands the same g to both inputs
        assertNotSame(a.grad().storage(), b.grad().storage());
        assertNotSame(upstream.storage(), a.grad().storage());
        Tensor ga = a.grad();
        ga.set(100f, 0);
        assertEquals(1f, b.grad().get(0));
        assertEquals(1f, upstream.get(0));
    }

    @Test
    void freshGradientIsKeptAndLaterCallsAccumulateIntoIt() {
        Variable w = param(1, 2, 3, 4);
        Tensor x = Tensor.of(new float[] {1, -1}, 1, 2);
        Variable y = Linear.apply(Variable.constant(x), w.view(2, 2)); // dW = gᵀ·x, a fresh matmul result
        y.backward(Tensor.of(new float[] {1, 2}, 1, 2));
        Tensor first = w.grad();
        assertArrayEquals(new float[] {1, -1, 2, -2}, first.toFloatArray());
        Linear.apply(Variable.constant(x), w.view(2, 2)).backward(Tensor.of(new float[] {1, 2}, 1, 2));
        assertArrayEquals(new float[] {2, -2, 4, -4}, w.grad().toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.value().toFloatArray(), "the value is untouched");
    }

    @Test
    void oneGradientBufferPerParameterIsReusedAcrossSteps() {
        // a Linear weight and an embedding table get their gradient written straight into their buffer
        Variable w = Variable.parameter(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)).named("w");
        Variable table = Variable.parameter(Tensor.of(new float[] {1, 1, 2, 2, 3, 3}, 3, 2)).named("table");
        Tensor x = Tensor.of(new float[] {1, -1, 2}, 1, 3), ids = Tensor.ofInts(new int[] {2, 2, 0}, 3);
        Linear.apply(Variable.constant(x), w).backward(Tensor.of(new float[] {1, 2}, 1, 2));
        Embedding.apply(table, ids).backward(Tensor.ones(3, 2));
        Tensor wBuffer = w.grad(), tBuffer = table.grad();
        assertArrayEquals(new float[] {1, -1, 2, 2, -2, 4}, wBuffer.toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0, 0, 2, 2}, tBuffer.toFloatArray());
        w.zeroGrad();
        table.zeroGrad();
        assertNull(w.grad(), "zeroGrad empties the gradient");
        Linear.apply(Variable.constant(x), w).backward(Tensor.of(new float[] {3, 0}, 1, 2));
        Embedding.apply(table, Tensor.ofInts(new int[] {1}, 1)).backward(Tensor.ones(1, 2));
        assertSame(wBuffer, w.grad(), "the same buffer, overwritten rather than reallocated");
        assertSame(tBuffer, table.grad());
        assertArrayEquals(new float[] {3, -3, 6, 0, 0, 0}, w.grad().toFloatArray());
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0}, table.grad().toFloatArray());
        Linear.apply(Variable.constant(x), w).backward(Tensor.of(new float[] {1, 0}, 1, 2)); // no zeroGrad: adds
        assertArrayEquals(new float[] {4, -4, 8, 0, 0, 0}, w.grad().toFloatArray());
        assertSame(wBuffer, w.grad());
    }

    @Test
    void fanOutThroughFreshGradientsSumsCorrectly() {
        // x feeds three products; the pending gradient of x is summed in place once it is fresh
        Variable x = param(0.5f, -2f);
        Variable c = Variable.constant(Tensor.of(new float[] {3, 5}, 2));
        Variable s = Arithmetic.add(Arithmetic.add(Arithmetic.mul(x, c), Arithmetic.mul(x, c)), Arithmetic.mul(x, x));
        s.backward(Tensor.ones(2));
        assertArrayEquals(new float[] {2 * 3 + 2 * 0.5f, 2 * 5 - 4f}, x.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void gradientsOfTwoOutputsOfOneRuleDoNotShareStorage() {
        Variable a = param(1, 2), b = param(3, 4);
        Arithmetic.mul(a, b).backward(Tensor.ones(2));
        assertNotSame(a.grad().storage(), b.grad().storage());
        assertArrayEquals(new float[] {3, 4}, a.grad().toFloatArray());
        assertArrayEquals(new float[] {1, 2}, b.grad().toFloatArray());
    }
}
