package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.function.UnaryOperator;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Views, concat and split route gradients to the right elements. These maps are linear and copy
 * values exactly, so central differences of our own forward with step 1 are exact (L is a sum of
 * products of exact copies, accumulated in double): the tolerance can be tight.
 */
class ViewsGradTest {
    private static final GradCheck.Tolerance EXACT = new GradCheck.Tolerance(1e-6, 1e-6);

    private static void linear(UnaryOperator<Variable> f, Tensor x) {
        // the result is multiplied by itself-independent weights; a second use of x checks accumulation into views
        GradCheck.againstSelf(in -> f.apply(in[0]), new Variable[] {Variable.parameter(x)}, 1.0, EXACT, 3).assertPassed();
    }

    @Test
    void everyViewRoutesItsGradient() {
        Rng rng = new Rng(1);
        for (boolean strided : new boolean[] {false, true}) {
            Tensor x = Refs.randn(rng, 1f, strided, 3, 4, 5);
            linear(v -> v.reshape(5, -1), x);
            linear(v -> v.reshape(60), x);
            linear(v -> Views.contiguous(v).view(12, 5), x);
            linear(v -> v.transpose(0, 2), x);
            linear(v -> v.permute(2, 0, 1), x);
            linear(v -> v.narrow(1, 1, 2), x);
            linear(v -> Views.slice(v, 2, 1, 5, 2), x);
            linear(v -> v.select(1, 3), x);
            linear(v -> v.select(0, -1), x);
            linear(v -> v.unsqueeze(1).expand(3, 6, 4, 5), x);
            linear(v -> v.narrow(2, 0, 1).squeeze(2).unsqueeze(0), x);
            linear(v -> Arithmetic.add(v.transpose(0, 1), v.select(2, 4).unsqueeze(2).expand(3, 4, 5).transpose(0, 1)), x);
        }
    }

    @Test
    void concatAndSplitAreInverse() {
        Rng rng = new Rng(2);
        Variable a = Variable.parameter(Tensor.randn(rng, 1f, 2, 3)), b = Variable.parameter(Refs.randn(rng, 1f, true, 2, 5));
        GradCheck.againstSelf(in -> Concat.apply(List.of(in[0], in[1], in[0]), 1), new Variable[] {a, b}, 1.0, EXACT, 4).assertPassed();
        Tensor x = Tensor.randn(rng, 1f, 7, 3);
        GradCheck.againstSelf(in -> {
            List<Variable> parts = Concat.split(in[0], 3, 0); // 3, 3, 1 rows
            return Concat.apply(List.of(parts.get(2), Arithmetic.scale(parts.get(0), 2f)), 0);
        }, new Variable[] {Variable.parameter(x)}, 1.0, EXACT, 5).assertPassed();
        Variable c = Concat.apply(List.of(a, b), 1);
        assertArrayEquals(new int[] {2, 8}, c.shape());
        assertEquals(b.value().get(1, 4), c.value().get(1, 7));
    }
}
