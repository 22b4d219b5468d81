package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A checkpointed block gives the same gradients as the plain one, keeps no intermediates, and replays dropout masks. */
class CheckpointTest {
    private final Rng init = new Rng(21);
    private final Variable w1 = Variable.parameter(Tensor.randn(init, 0.3f, 24, 10));
    private final Variable w2 = Variable.parameter(Tensor.randn(init, 0.3f, 10, 24));

    private Variable block(Variable x, Rng dropout) {
        Variable h = Activations.silu(Linear.apply(x, w1));
        if (dropout != null) h = Dropout.apply(h, 0.3f, dropout);
        return Arithmetic.add(x, Linear.apply(h, w2)); // residual
    }

    private float[][] grads(boolean checkpoint, boolean dropout) {
        w1.zeroGrad();
        w2.zeroGrad();
        Rng rng = dropout ? new Rng(99) : null;
        Variable x = Variable.parameter(Tensor.randn(new Rng(5), 1f, 6, 10));
        Variable y = x;
        for (int layer = 0; layer < 3; layer++) y = Checkpoint.apply(checkpoint, rng, in -> block(in[0], rng), y);
        y.backward(Tensor.randn(new Rng(6), 1f, 6, 10));
        return new float[][] {x.grad().toFloatArray(), w1.grad().toFloatArray(), w2.grad().toFloatArray(), y.value().toFloatArray()};
    }

    @Test
    void sameGradientsWithAndWithoutCheckpointing() {
        for (boolean dropout : new boolean[] {false, true}) {
            float[][] plain = grads(false, dropout), ckpt = grads(true, dropout);
            for (int i = 0; i < plain.length; i++) assertArrayEquals(plain[i], ckpt[i], 1e-5f, "tensor " + i + " dropout " + dropout);
        }
    }

    @Test
    void keepsOnlyItsInputs() {
        Variable x = Variable.parameter(Tensor.randn(new Rng(7), 1f, 6, 10));
        Variable y = Checkpoint.apply(in -> block(in[0], null), x);
        assertEquals("checkpoint", y.node.op);
        assertEquals(1, y.node.edges().length);
        assertSame(x, y.node.edges()[0].leaf());
        Variable plain = block(x, null);
        assertEquals("add", plain.node.op);
        try (var g = NoGrad.enter()) {
            assertFalse(Checkpoint.apply(in -> block(in[0], null), x).requiresGrad());
        }
    }
}
