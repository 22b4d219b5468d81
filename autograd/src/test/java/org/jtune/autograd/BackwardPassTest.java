package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The engine: accumulation, fan-out, deep graphs, release of saved state, no-grad scopes, detach. */
class BackwardPassTest {
    private static Variable param(float... v) {
        return Variable.parameter(Tensor.of(v.clone(), v.length));
    }

    private static Variable sumOf(Variable x) {
        // Σ x via a matmul with ones, so this test needs only kernels that exist from the start.
        return MatMul.apply(x.unsqueeze(0), Variable.constant(Tensor.ones(x.size(0)))).squeeze(0);
    }

    @Test
    void gradientsAccumulateAcrossCallsUntilZeroGrad() {
        Variable x = param(1, 2, 3);
        for (int call = 1; call <= 3; call++) {
            sumOf(Arithmetic.mul(x, x)).backward(); // d/dx Σx² = 2x
            assertArrayEquals(new float[] {2 * call, 4 * call, 6 * call}, x.grad().toFloatArray(), 1e-6f);
        }
        x.zeroGrad();
        assertNull(x.grad());
        sumOf(Arithmetic.scale(x, 3f)).backward();
        assertArrayEquals(new float[] {3, 3, 3}, x.grad().toFloatArray());
    }

    @Test
    void fanOutSumsEveryPath() {
        Variable x = param(0.5f, -1.5f);
        Variable a = Activations.exp(x);
        Variable y = Arithmetic.add(Arithmetic.mul(a, a), Arithmetic.add(a, Arithmetic.scale(a, 2f))); // e^{2x} + 3e^x
        y.backward(Tensor.ones(2));
        for (int i = 0; i < 2; i++) {
            double xi = x.value().get(i);
            assertEquals(2 * Math.exp(2 * xi) + 3 * Math.exp(xi), x.grad().get(i), 1e-5 * Math.exp(2 * Math.abs(xi)) + 1e-5);
        }
    }

    @Test
    void deepChainNeedsNoRecursion() {
        Variable x = param(1f);
        Variable y = x;
        int depth = 200_000;
        for (int i = 0; i < depth; i++) y = Arithmetic.affine(y, i % 2 == 0 ? 2f : 0.5f, 1f);
        y.backward(Tensor.ones(1));
        assertEquals(1f, x.grad().get(0));
    }

    @Test
    void savedStateIsReleasedAndASecondBackwardIsRefused() {
        Variable x = param(1, 2);
        Variable h = Activations.tanh(x);
        Variable y = Arithmetic.mul(h, h);
        y.backward(Tensor.ones(2));
        assertTrue(y.node.released());
        assertTrue(h.node.released());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.backward(Tensor.ones(2)));
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
    }

    private static boolean collected(WeakReference<?> ref) {
        for (int i = 0; i < 20 && ref.get() != null; i++) System.gc();
        return ref.get() == null;
    }

    @Test
    void theGraphKeepsOnlyWhatRulesSavedAndFreesItAfterBackward() {
        Variable x = param(1, 2, 3);
        Variable h = Arithmetic.scale(x, 2f);
        WeakReference<Tensor> unsaved = new WeakReference<>(h.value());
        Variable y = Arithmetic.add(h, x); // add's rule reads no values
        h = null;
        assertTrue(collected(unsaved), "a value no rule saved is not kept alive by the graph");
        Variable t = Activations.tanh(y);
        WeakReference<Tensor> saved = new WeakReference<>(t.value()); // tanh's rule saves its output
        Variable z = Arithmetic.scale(t, 3f);
        t = null;
        assertFalse(collected(saved), "a saved tensor lives until the backward");
        z.backward(Tensor.ones(3));
        assertTrue(collected(saved), "released once its rule ran");
        for (int i = 0; i < 3; i++) {
            double th = Math.tanh(3 * (i + 1));
            assertEquals(3 * 3 * (1 - th * th), x.grad().get(i), 1e-5);
        }
    }

    @Test
    void noGradRecordsNothingAndIsPerThread() throws Exception {
        Variable x = param(1, 2);
        try (var g = NoGrad.enter()) {
            Variable y = Arithmetic.mul(x, x);
            assertFalse(y.requiresGrad());
            assertNull(y.node);
            try (var inner = NoGrad.enter()) {
                assertTrue(NoGrad.active());
            }
            assertTrue(NoGrad.active());
            AtomicBoolean other = new AtomicBoolean();
            Thread t = new Thread(() -> other.set(Arithmetic.mul(x, x).requiresGrad()));
            t.start();
            t.join();
            assertTrue(other.get(), "another thread keeps recording");
        }
        assertFalse(NoGrad.active());
        assertTrue(Arithmetic.mul(x, x).requiresGrad());
    }

    @Test
    void detachAndConstantsStopGradients() {
        Variable x = param(2, 3);
        Variable c = Variable.constant(Tensor.of(new float[] {5, 7}, 2));
        Variable y = Arithmetic.add(Arithmetic.mul(x, c), Arithmetic.mul(x.detach(), x));
        y.backward(Tensor.ones(2));
        assertArrayEquals(new float[] {5 + 2, 7 + 3}, x.grad().toFloatArray());
        assertFalse(Arithmetic.mul(c, c).requiresGrad());
    }

    @Test
    void badUpstreamAndNonScalarBackwardAreClearErrors() {
        Variable x = param(1, 2);
        Variable y = Arithmetic.scale(x, 2f);
        assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.ones(3)));
        assertThrows(IllegalArgumentException.class, y::backward);
        assertThrows(IllegalStateException.class, () -> Variable.constant(Tensor.ones(1)).backward());
    }

    @Test
    void multiOutputNodeGetsZerosForUnusedOutputs() {
        Variable x = param(1, 2, 3, 4, 5);
        var parts = Concat.split(x, 2, 0); // [1,2] [3,4] [5]
        Arithmetic.scale(parts.get(1), 3f).backward(Tensor.ones(2));
        assertArrayEquals(new float[] {0, 0, 3, 3, 0}, x.grad().toFloatArray());
    }
}
