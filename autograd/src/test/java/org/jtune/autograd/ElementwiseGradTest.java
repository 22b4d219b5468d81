package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.jtune.tensor.Erf;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Elementwise ops and broadcasting arithmetic against double references, on odd shapes and non-contiguous inputs. */
class ElementwiseGradTest {
    private static void unary(UnaryOperator<Variable> op, DoubleUnaryOperator ref, float lo, float hi, boolean strided, long seed) {
        Rng rng = new Rng(seed);
        Tensor x = Refs.randn(rng, 1f, strided, 5, 7);
        // map N(0,1) into [lo, hi] away from kinks, keeping the view's layout
        Tensor xs = Tensor.uniform(rng, lo, hi, 5, 7);
        org.jtune.tensor.Ops.copyInto(xs, x);
        Refs.check(in -> op.apply(in[0]), in -> {
            double[] y = new double[in[0].length];
            for (int i = 0; i < y.length; i++) y[i] = ref.applyAsDouble(in[0][i]);
            return y;
        }, Variable.parameter(x));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void unaryOps(boolean strided) {
        unary(Activations::exp, Math::exp, -2f, 2f, strided, 1);
        unary(Activations::log, Math::log, 0.3f, 3f, strided, 2);
        unary(Activations::sqrt, Math::sqrt, 0.3f, 3f, strided, 3);
        unary(Activations::rsqrt, x -> 1 / Math.sqrt(x), 0.3f, 3f, strided, 4);
        unary(Activations::tanh, Math::tanh, -3f, 3f, strided, 5);
        unary(Activations::sigmoid, x -> UnaryOp.SIGMOID.apply(x), -4f, 4f, strided, 6);
        unary(Activations::silu, x -> UnaryOp.SILU.apply(x), -4f, 4f, strided, 7);
        unary(Activations::gelu, x -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))), -4f, 4f, strided, 8);
        unary(Activations::geluTanh, x -> UnaryOp.GELU_TANH.apply(x), -4f, 4f, strided, 9);
        unary(Activations::relu, x -> Math.max(x, 0), 0.05f, 2f, strided, 10);
        unary(x -> Activations.relu(Arithmetic.neg(x)), x -> Math.max(-x, 0), -2f, 2f, strided, 11);
        unary(x -> Arithmetic.affine(x, -1.5f, 0.25f), x -> -1.5 * x + 0.25, -2f, 2f, strided, 12);
        unary(x -> Arithmetic.pow(x, 3f), x -> x * x * x, -2f, 2f, strided, 13);
        unary(x -> Arithmetic.pow(x, 2f), x -> x * x, -2f, 2f, strided, 14);
        unary(x -> Arithmetic.pow(x, -0.5f), x -> Math.pow(x, -0.5), 0.3f, 3f, strided, 15);
    }

    /** a (shapeA) op b (shapeB) with numpy broadcasting, every combination of which side broadcasts. */
    @ParameterizedTest
    @ValueSource(strings = {"3,5|3,5", "4,1,5|3,1", "5|2,3,5", "2,3,1|1,1,4", "1|3,7"})
    void broadcastingArithmetic(String shapes) {
        String[] s = shapes.split("\\|");
        int[] as = java.util.Arrays.stream(s[0].split(",")).mapToInt(Integer::parseInt).toArray();
        int[] bs = java.util.Arrays.stream(s[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int[] out = org.jtune.tensor.Ops.broadcastShape("test", as, bs);
        Rng rng = new Rng(shapes.hashCode());
        for (int op = 0; op < 4; op++) {
            Tensor a = Refs.randn(rng, 1f, as.length > 1, as);
            Tensor b = Tensor.uniform(rng, 0.5f, 2f, bs); // positive: safe divisor
            int which = op;
            Refs.check(in -> switch (which) {
                case 0 -> Arithmetic.add(in[0], in[1]);
                case 1 -> Arithmetic.sub(in[0], in[1]);
                case 2 -> Arithmetic.mul(in[0], in[1]);
                default -> Arithmetic.div(in[0], in[1]);
            }, in -> {
                double[] y = new double[Refs.numel(out)];
                for (int k = 0; k < y.length; k++) {
                    double x = in[0][Refs.broadcastIndex(out, as, k)], z = in[1][Refs.broadcastIndex(out, bs, k)];
                    y[k] = switch (which) {
                        case 0 -> x + z;
                        case 1 -> x - z;
                        case 2 -> x * z;
                        default -> x / z;
                    };
                }
                return y;
            }, Variable.parameter(a), Variable.parameter(b));
        }
    }

    @Test
    void whereRoutesEachSideAndBroadcasts() {
        Rng rng = new Rng(3);
        Tensor cond = Tensor.of(new float[] {1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0}, 3, 4);
        Tensor a = Tensor.randn(rng, 1f, 3, 4), b = Tensor.randn(rng, 1f, 4);
        Refs.check(in -> Arithmetic.where(cond, in[0], in[1]), in -> {
            double[] y = new double[12];
            float[] c = cond.toFloatArray();
            for (int k = 0; k < 12; k++) y[k] = c[k] != 0 ? in[0][k] : in[1][k % 4];
            return y;
        }, Variable.parameter(a), Variable.parameter(b));
    }

    @Test
    void dropoutReusesItsMaskAndKeepsTheExpectation() {
        Rng rng = new Rng(5);
        Variable x = Variable.parameter(Tensor.ones(200, 50));
        Variable y = Dropout.apply(x, 0.25f, rng);
        float[] yv = y.value().toFloatArray();
        y.backward(Tensor.ones(200, 50));
        float[] g = x.grad().toFloatArray();
        double mean = 0;
        for (int i = 0; i < yv.length; i++) {
            assertTrue(yv[i] == 0f || Math.abs(yv[i] - 1f / 0.75f) < 1e-6, "kept values are scaled by 1/(1-p)");
            assertEquals(yv[i], g[i], "the backward multiplies by the same mask");
            mean += yv[i];
        }
        assertEquals(1.0, mean / yv.length, 0.03);
        Variable same = Dropout.apply(Variable.parameter(Tensor.ones(200, 50)), 0.25f, new Rng(5));
        assertArrayEquals(yv, same.value().toFloatArray(), "the same seed draws the same mask");
        assertSame(x, Dropout.apply(x, 0f, rng));
    }
}
