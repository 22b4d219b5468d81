package org.jtune.models.decoder;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.GradCheck;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.lora.LoraPair;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The mixture-of-experts MLP against a scalar double-precision reference written from its definition (softmax router, the
 * k most probable experts, weights rescaled or not, the weighted sum of the chosen experts' SwiGLU MLPs), on odd sizes (5
 * experts, 2 per token, width 7 over hidden 6, a (2, 5) batch): values, and the gradients of the input, the router and one
 * expert's projection by central differences of the reference. Per-request adapters follow their rows into the experts.
 */
class SparseMoeTest {
    private static final int DIM = 6, EXPERTS = 5, K = 2, WIDTH = 7;
    private static final SparseMoe.Names NAMES = new SparseMoe.Names("mlp.gate.weight", "mlp.experts.%d.gate_proj.weight",
            "mlp.experts.%d.up_proj.weight", "mlp.experts.%d.down_proj.weight");
    private static final GradCheck.Tolerance FORWARD = new GradCheck.Tolerance(1e-4, 1e-5), GRAD = new GradCheck.Tolerance(1e-3, 1e-4);

    private record Mixture(WeightTable table, SparseMoe moe) {
        double[] w(String name) {
            float[] f = table.get(name).value().value().toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) d[i] = f[i];
            return d;
        }
    }

    private static Mixture mixture(boolean normalize, long seed) {
        WeightTable table = new WeightTable();
        SparseMoe moe = SparseMoe.declare(table, "l.", NAMES, new MoeConfig(EXPERTS, K, WIDTH, normalize, 1, List.of()), DIM);
        table.randomize(new Rng(seed), 0.6f);
        return new Mixture(table, moe);
    }

    /** The layer in double: x (n·DIM) with the router and expert 0's down projection given, the rest from the table. */
    private static double[] reference(Mixture m, boolean normalize, double[] x, double[] router, double[] down0) {
        int n = x.length / DIM;
        double[] y = new double[x.length];
        for (int t = 0; t < n; t++) {
            double[] p = new double[EXPERTS];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int e = 0; e < EXPERTS; e++) {
                for (int j = 0; j < DIM; j++) p[e] += x[t * DIM + j] * router[e * DIM + j];
                max = Math.max(max, p[e]);
            }
            for (int e = 0; e < EXPERTS; e++) sum += p[e] = Math.exp(p[e] - max);
            for (int e = 0; e < EXPERTS; e++) p[e] /= sum;
            List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4));
            order.sort((a, b) -> Double.compare(p[b], p[a]));
            double chosen = 0;
            for (int s = 0; s < K; s++) chosen += p[order.get(s)];
            for (int s = 0; s < K; s++) {
                int e = order.get(s);
                double weight = normalize ? p[e] / chosen : p[e];
                double[] gate = m.w("l.mlp.experts." + e + ".gate_proj.weight"), up = m.w("l.mlp.experts." + e + ".up_proj.weight");
                double[] down = e == 0 ? down0 : m.w("l.mlp.experts." + e + ".down_proj.weight");
                double[] h = new double[WIDTH];
                for (int i = 0; i < WIDTH; i++) {
                    double g = 0, u = 0;
                    for (int j = 0; j < DIM; j++) {
                        g += gate[i * DIM + j] * x[t * DIM + j];
                        u += up[i * DIM + j] * x[t * DIM + j];
                    }
                    h[i] = g / (1 + Math.exp(-g)) * u;
                }
                for (int o = 0; o < DIM; o++) {
                    double v = 0;
                    for (int i = 0; i < WIDTH; i++) v += down[o * WIDTH + i] * h[i];
                    y[t * DIM + o] += weight * v;
                }
            }
        }
        return y;
    }

    @Test
    void matchesTheScalarReferenceWithItsGradients() {
        for (boolean normalize : new boolean[] {true, false}) {
            Mixture m = mixture(normalize, normalize ? 1 : 2);
            Variable x = Variable.parameter(Tensor.randn(new Rng(3), 1f, 2, 5, DIM));
            Variable router = Variable.parameter(m.table().get("l.mlp.gate.weight").value().value().copy());
            Variable down0 = Variable.parameter(m.table().get("l.mlp.experts.0.down_proj.weight").value().value().copy());
            m.table().get("l.mlp.gate.weight").set(router);
            m.table().get("l.mlp.experts.0.down_proj.weight").set(down0);
            GradCheck.againstReference(in -> m.moe().apply(in[0], AdapterRouting.BASE, null),
                    in -> reference(m, normalize, in[0], in[1], in[2]), new Variable[] {x, router, down0}, FORWARD, GRAD, 4).assertPassed();
        }
    }

    @Test
    void eachRowKeepsItsAdapterInsideTheExperts() {
        Mixture m = mixture(true, 5);
        Rng rng = new Rng(6);
        for (LoraLinear p : m.table().projections()) {
            p.putAdapter("a", new LoraPair(Variable.constant(Tensor.randn(rng, 0.5f, 2, p.inFeatures())),
                    Variable.constant(Tensor.randn(rng, 0.5f, p.outFeatures(), 2)), 2f, 0f));
        }
        Tensor x = Tensor.randn(new Rng(7), 1f, 1, 6, DIM);
        try (var g = NoGrad.enter()) {
            float[] base = m.moe().apply(Variable.constant(x), AdapterRouting.BASE, null).value().toFloatArray();
            float[] adapted = m.moe().apply(Variable.constant(x), AdapterRouting.uniform(List.of("a")), null).value().toFloatArray();
            float[] mixed = m.moe().apply(Variable.constant(x), AdapterRouting.runs(List.of(new AdapterRouting.Run(0, 2, "a"),
                    new AdapterRouting.Run(2, 3, null), new AdapterRouting.Run(5, 1, "a"))), null).value().toFloatArray();
            for (int t = 0; t < 6; t++) {
                float[] want = t < 2 || t == 5 ? adapted : base;
                for (int j = 0; j < DIM; j++) assertEquals(want[t * DIM + j], mixed[t * DIM + j], 1e-5f, "row " + t);
            }
            assertNotEquals(base[0], adapted[0], "the adapter changes the experts' answers");
        }
    }

    @Test
    void pickedRowsKeepTheirRuns() {
        AdapterRouting runs = AdapterRouting.runs(List.of(new AdapterRouting.Run(0, 2, "x"), new AdapterRouting.Run(2, 1, null),
                new AdapterRouting.Run(3, 4, "y")));
        assertEquals(List.of(new AdapterRouting.Run(0, 1, "x"), new AdapterRouting.Run(1, 3, "y")), runs.pick(new int[] {1, 3, 4, 6}).runs());
        assertSame(AdapterRouting.BASE, AdapterRouting.BASE.pick(new int[] {0, 5}), "uniform routing holds for any rows");
        assertThrows(IllegalArgumentException.class, () -> runs.pick(new int[] {3, 1}));
        assertThrows(IllegalArgumentException.class, () -> runs.pick(new int[] {7}));
    }
}
