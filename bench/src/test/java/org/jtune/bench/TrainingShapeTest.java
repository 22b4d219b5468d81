package org.jtune.bench;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The ideal-memory arithmetic of the training-step benchmark, against independent counts. */
class TrainingShapeTest {
    @Test
    void parameterCountMatchesPyTorchPeerAndTheWeightsBuilt() {
        TrainingShape s = TrainingShape.stories15M();
        // torch_llama_step.py prints trainable_params = 24407712 for this shape
        assertEquals(24_407_712L, s.parameters());
        long built = 0;
        for (Tensor t : org.jtune.models.arch.Architectures.randomWeights(s.config(), new Rng(1), 0.02f).values()) built += t.numel();
        assertEquals(s.parameters(), built);
    }

    @Test
    void idealBytesAddUpFromTheShapes() {
        TrainingShape s = TrainingShape.stories15M();
        long n = 1024, d = 288, f = 768, v = 32000, layer = n * (8 * d + 3 * f);
        assertEquals(layer, s.layerActivations());
        long head = 2 * n * d + n * v;
        assertEquals(4 * (2 * s.parameters() + 6 * layer + head), s.idealBytes(false));
        assertEquals(4 * (2 * s.parameters() + 6 * n * d + layer + head), s.idealBytes(true));
        assertTrue(s.idealBytes(true) < s.idealBytes(false));
    }
}
