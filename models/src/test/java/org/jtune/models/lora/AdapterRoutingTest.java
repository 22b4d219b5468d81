package org.jtune.models.lora;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModels;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.models.generate.SequenceRequest;
import org.jtune.models.generate.StepEngine;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Named adapters on one base model: a batch that mixes sequences of different adapters (and of the
 * base model) gives each sequence what it gets with its adapter alone; adapters load, activate and
 * unload by name without touching the base weights.
 */
class AdapterRoutingTest {
    private static void randomise(Map<String, Variable> params, Rng rng) {
        for (Variable v : params.values()) Ops.copyInto(Tensor.randn(rng, 0.2f, v.shape()), v.value());
    }

    @Test
    void mixedAdapterBatchMatchesEachAdapterAlone() {
        try (CausalLM m = TinyModels.random(11)) {
            LoraConfig all = new LoraConfig(4, 8f, 0f, LoraConfig.ALL_LINEAR, false, List.of());
            LoraConfig attn = new LoraConfig(2, 4f, 0f, List.of("q_proj", "v_proj"), false, List.of(5));
            randomise(LoraAdapters.attach(m, "a", all, new Rng(1), false), new Rng(2));
            randomise(LoraAdapters.attach(m, "b", attn, new Rng(3), false), new Rng(4));
            assertEquals(List.of("b"), m.adapters().active(), "attaching activates the new adapter");

            int[][] prompts = {{1, 7, 9, 20}, {1, 30, 31}, {1, 12, 13, 14, 15}, {1, 8}};
            String[] names = {"a", "b", null, "a"};
            int[][] want = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) {
                StepEngine alone = new StepEngine(m, StepEngine.Limits.DEFAULT);
                Sequence s = alone.add(new SequenceRequest(prompts[i], SamplingConfig.greedy(10), names[i], null, false), null);
                while (!alone.idle()) alone.step();
                want[i] = s.outputIds();
            }
            assertFalse(java.util.Arrays.equals(want[0], want[3]) && java.util.Arrays.equals(want[1], want[2]), "adapters change outputs");
            StepEngine mixed = new StepEngine(m, StepEngine.Limits.DEFAULT);
            Sequence[] got = new Sequence[prompts.length];
            for (int i = 0; i < prompts.length; i++) {
                got[i] = mixed.add(new SequenceRequest(prompts[i], SamplingConfig.greedy(10), names[i], null, false), null);
            }
            while (!mixed.idle()) mixed.step();
            for (int i = 0; i < prompts.length; i++) assertArrayEquals(want[i], got[i].outputIds(), "sequence " + i + " (" + names[i] + ")");
        }
    }

    @Test
    void routedLogitsEqualUniformLogitsRowByRow() {
        try (CausalLM m = TinyModels.random(12); var g = NoGrad.enter()) {
            randomise(LoraAdapters.attach(m, "x", new LoraConfig(3, 6f, 0f, LoraConfig.ALL_LINEAR, false, List.of()), new Rng(5), false), new Rng(6));
            LoraLinear q = m.weights().projections().getFirst();
            Tensor in = Tensor.randn(new Rng(7), 1f, 5, q.inFeatures());
            Tensor base = q.apply(Variable.constant(in), AdapterRouting.BASE, null).value();
            Tensor withX = q.apply(Variable.constant(in), AdapterRouting.uniform(List.of("x")), null).value();
            Tensor routed = q.apply(Variable.constant(in), AdapterRouting.runs(List.of(new AdapterRouting.Run(0, 2, "x"),
                    new AdapterRouting.Run(2, 1, null), new AdapterRouting.Run(3, 2, "x"))), null).value();
            for (int r = 0; r < 5; r++) {
                Tensor want = (r == 2 ? base : withX).select(0, r);
                float[] a = want.toFloatArray(), b = routed.select(0, r).toFloatArray();
                assertArrayEquals(a, b, 1e-5f, "row " + r);
            }
        }
    }

    @Test
    void segmentedKernelAgreesWithRunByRunProducts() {
        boolean saved = LoraLinear.segmentedKernel();
        try (CausalLM m = TinyModels.random(14); var g = NoGrad.enter()) {
            randomise(LoraAdapters.attach(m, "x", new LoraConfig(3, 6f, 0f, LoraConfig.ALL_LINEAR, false, List.of()), new Rng(8), false), new Rng(9));
            randomise(LoraAdapters.attach(m, "y", new LoraConfig(5, 5f, 0f, List.of("q_proj"), false, List.of()), new Rng(10), false), new Rng(11));
            AdapterRouting routing = AdapterRouting.runs(List.of(new AdapterRouting.Run(0, 2, "y"), new AdapterRouting.Run(2, 1, null),
                    new AdapterRouting.Run(3, 3, "x"), new AdapterRouting.Run(6, 1, "y")));
            for (LoraLinear p : m.weights().projections()) {
                Tensor in = Tensor.randn(new Rng(p.name().hashCode()), 1f, 1, 7, p.inFeatures());
                LoraLinear.setSegmentedKernel(true);
                float[] seg = p.apply(Variable.constant(in), routing, null).value().toFloatArray();
                LoraLinear.setSegmentedKernel(false);
                float[] runs = p.apply(Variable.constant(in), routing, null).value().toFloatArray();
                assertArrayEquals(runs, seg, 1e-4f, p.name());
            }
        } finally {
            LoraLinear.setSegmentedKernel(saved);
        }
    }

    @Test
    void adaptersLoadActivateAndUnloadByName() {
        try (CausalLM m = TinyModels.random(13)) {
            Tensor w = m.weights().projections().getFirst().weight().value();
            float[] before = w.toFloatArray();
            LoraAdapters.attach(m, "one", new LoraConfig(2, 2f, 0f, List.of("q_proj"), false, List.of()), new Rng(1), false);
            LoraAdapters.attach(m, "two", new LoraConfig(2, 2f, 0f, List.of("k_proj"), false, List.of()), new Rng(2), false);
            assertEquals(List.of("one", "two"), m.adapters().names());
            m.adapters().setActive(List.of("one", "two"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.adapters().setActive(List.of("three")));
            assertTrue(e.getMessage().contains("one, two"), e.getMessage());
            m.adapters().remove("one");
            assertEquals(List.of("two"), m.adapters().active());
            assertNull(m.weights().projections().getFirst().adapter("one"));
            assertArrayEquals(before, m.weights().projections().getFirst().weight().value().toFloatArray(), "base untouched");
        }
    }
}
