package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The chunked head-and-loss gives the whole-batch loss and gradients (every parameter below and in the head, ignored
 * targets included) for chunk sizes that divide the rows and that do not, holds no chunk's logits afterwards, computes
 * only values under no-grad, and refuses an upstream gradient other than 1 instead of mis-scaling the head.
 */
class ChunkedLossTest {
    private static final int ROWS = 23, DIM = 12, VOCAB = 40;
    private final Rng init = new Rng(31);
    private final Variable below = Variable.parameter(Tensor.randn(init, 0.3f, DIM, DIM)); // a layer under the head
    private final Variable head = Variable.parameter(Tensor.randn(init, 0.3f, VOCAB, DIM));
    private final Tensor x = Tensor.randn(new Rng(5), 1f, ROWS, DIM);
    private final Tensor targets;

    ChunkedLossTest() {
        int[] t = new int[ROWS];
        Rng r = new Rng(6);
        for (int i = 0; i < ROWS; i++) t[i] = i % 7 == 3 ? -100 : r.nextInt(VOCAB);
        targets = Tensor.ofInts(t, ROWS);
    }

    private Variable loss(Variable input, int chunkRows) {
        Variable hidden = Activations.silu(Linear.apply(input, below));
        return ChunkedLoss.apply(hidden, chunkRows, (rows, from, length) ->
                CrossEntropy.applyConsumingLogits(Linear.apply(rows, head), targets.narrow(0, from, length), -100, 19f));
    }

    /** loss, then the gradients of the input, the layer below and the head. */
    private float[][] run(int chunkRows) {
        below.zeroGrad();
        head.zeroGrad();
        Variable input = Variable.parameter(x);
        Variable l = loss(input, chunkRows);
        l.backward();
        return new float[][] {l.value().toFloatArray(), input.grad().toFloatArray(), below.grad().toFloatArray(), head.grad().toFloatArray()};
    }

    @Test
    void sameLossAndGradientsAsTheWholeBatch() {
        float[][] whole = run(ROWS);
        for (int chunk : new int[] {1, 4, 5, 22}) {
            float[][] chunked = run(chunk);
            for (int i = 0; i < whole.length; i++) {
                float scale = 0;
                for (float v : whole[i]) scale = Math.max(scale, Math.abs(v));
                assertArrayEquals(whole[i], chunked[i], 1e-5f * scale, "tensor " + i + " in chunks of " + chunk);
            }
        }
    }

    @Test
    void keepsOnlyTheHiddenStatesGradientAndNoLogits() {
        Variable hidden = Variable.parameter(x);
        Variable l = ChunkedLoss.apply(hidden, 5, (rows, from, length) ->
                CrossEntropy.applyConsumingLogits(Linear.apply(rows, head), targets.narrow(0, from, length), -100, 1f));
        assertEquals("chunked_loss", l.node.op);
        assertEquals(1, l.node.edges().length, "the loss hangs on the hidden states only");
        assertNotNull(head.grad(), "the head's gradient is taken in the forward pass");
    }

    @Test
    void noGradComputesTheSameLoss() {
        float expected = run(ROWS)[0][0];
        try (var g = NoGrad.enter()) {
            Variable l = loss(Variable.constant(x), 4);
            assertFalse(l.requiresGrad());
            assertEquals(expected, l.value().item(), 1e-5f * Math.abs(expected));
        }
    }

    @Test
    void refusesAnUpstreamGradientOtherThanOne() {
        Variable l = loss(Variable.parameter(x), 4);
        var e = assertThrows(IllegalStateException.class, () -> l.backward(Tensor.scalar(2f)));
        assertTrue(e.getMessage().contains("backward must start at this loss"), e.getMessage());
    }
}
