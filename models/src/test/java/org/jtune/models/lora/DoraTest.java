package org.jtune.models.lora;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Reductions;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DoRA (PEFT use_dora) on stories260K: at its initialisation (B = 0, m = W's row norms) the model is unchanged; with
 * trained-looking A, B and m the adapter applied unmerged gives the merged model's logits, merged rows have their
 * magnitude's length and W + scale·B·A's direction, rows routed per request get the same outputs as the uniform path,
 * and PEFT's folder round-trips; the gradients of m, A and B are those of PEFT's forward with the row norm held constant
 * (finite differences of a double-precision re-implementation); a folder whose magnitudes and use_dora disagree is refused.
 */
class DoraTest {
    private static final int[] IDS = {1, 403, 407, 261, 378, 30, 88};
    private static final LoraConfig DORA = new LoraConfig(4, 8f, 0f, List.of("q_proj", "v_proj"), false, List.of(), true);

    /** stories260K with a DoRA adapter attached; unless {@code init}, B and m moved away from their initial values. */
    private static Map<String, Variable> attach(CausalLM model, boolean init) {
        Map<String, Variable> params = LoraAdapters.attach(model, Adapters.DEFAULT, DORA, new Rng(5), true);
        Rng rng = new Rng(6);
        if (!init) {
            for (var e : params.entrySet()) {
                Tensor v = e.getValue().value();
                if (e.getKey().endsWith("lora_B.weight")) Ops.copyInto(Tensor.randn(rng, 0.05f, v.shape()), v);
                if (e.getKey().endsWith("lora_magnitude_vector")) Ops.copyInto(Ops.mul(v, Ops.add(Tensor.randn(rng, 0.2f, v.shape()), Tensor.of(new float[] {1f}, 1))), v);
            }
        }
        return params;
    }

    @Test
    void atInitialisationTheModelIsUnchangedAndTheMagnitudesAreTheRowNorms() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM base = Architectures.load(dir); CausalLM model = Architectures.load(dir)) {
            Map<String, Variable> params = attach(model, true);
            assertEquals(3 * 2 * 5, params.size(), "A, B and m of q_proj and v_proj in 5 layers");
            float[] want = HiddenStates.logits(base, IDS), got = HiddenStates.logits(model, IDS);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4f * (1 + Math.abs(want[i])));
        }
    }

    @Test
    void unmergedMergedRoutedAndReloadedGiveTheSameModel(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("models/stories260K");
        float[] unmerged;
        try (CausalLM model = Architectures.load(dir)) {
            attach(model, false);
            unmerged = HiddenStates.logits(model, IDS);
            PeftFormat.save(tmp.resolve("dora"), model, Adapters.DEFAULT, dir.toString());
            // routed per request: rows 0-2 on the base, the rest on the adapter
            LoraLinear q = model.weights().projections().getFirst();
            Tensor x = Tensor.randn(new Rng(9), 1f, 7, q.inFeatures());
            try (NoGrad ignored = NoGrad.enter()) {
                float[] uniform = q.apply(Variable.constant(x), AdapterRouting.uniform(List.of(Adapters.DEFAULT)), null).value().toFloatArray();
                float[] plain = q.apply(Variable.constant(x), AdapterRouting.uniform(List.of()), null).value().toFloatArray();
                AdapterRouting mixed = AdapterRouting.runs(List.of(new AdapterRouting.Run(0, 3, null), new AdapterRouting.Run(3, 4, Adapters.DEFAULT)));
                float[] routed = q.apply(Variable.constant(x), mixed, null).value().toFloatArray();
                int out = q.outFeatures();
                for (int i = 0; i < routed.length; i++) {
                    float want = i < 3 * out ? plain[i] : uniform[i];
                    assertEquals(want, routed[i], 1e-4f * (1 + Math.abs(want)), "row " + i / out);
                }
            }
        }
        assertTrue(Files.readString(tmp.resolve("dora/adapter_config.json")).contains("\"use_dora\" : true"));
        try (CausalLM reloaded = Architectures.load(dir); CausalLM merged = Architectures.load(dir); CausalLM base = Architectures.load(dir)) {
            PeftFormat.load(tmp.resolve("dora"), reloaded);
            float[] again = HiddenStates.logits(reloaded, IDS);
            for (int i = 0; i < unmerged.length; i++) assertEquals(unmerged[i], again[i], 1e-5f * (1 + Math.abs(unmerged[i])), "reloaded");
            PeftFormat.load(tmp.resolve("dora"), merged);
            Map<String, LoraPair> pairs = Map.copyOf(merged.adapters().pairs(Adapters.DEFAULT));
            LoraMerge.mergeInto(merged, Adapters.DEFAULT);
            float[] folded = HiddenStates.logits(merged, IDS);
            for (int i = 0; i < unmerged.length; i++) assertEquals(unmerged[i], folded[i], 2e-4f * (1 + Math.abs(unmerged[i])), "merged");
            for (var e : pairs.entrySet()) { // each merged row: length m_i, direction of W + scale·B·A
                LoraPair p = e.getValue();
                float[] w = base.weights().get(e.getKey()).value().value().toFloatArray(), got = merged.weights().get(e.getKey()).value().value().toFloatArray();
                float[] a = p.a().value().toFloatArray(), b = p.b().value().toFloatArray(), m = p.magnitude().value().toFloatArray();
                int out = m.length, in = w.length / out, r = a.length / in;
                for (int i = 0; i < out; i++) {
                    double dot = 0, ng = 0, nv = 0;
                    for (int k = 0; k < in; k++) {
                        double v = w[i * in + k];
                        for (int j = 0; j < r; j++) v += p.scale() * (double) b[i * r + j] * a[j * in + k];
                        dot += v * got[i * in + k];
                        ng += (double) got[i * in + k] * got[i * in + k];
                        nv += v * v;
                    }
                    assertEquals(m[i], Math.sqrt(ng), 1e-5 * Math.abs(m[i]), e.getKey() + " row " + i + " length");
                    assertEquals(1, dot / Math.sqrt(ng * nv), 1e-6, e.getKey() + " row " + i + " direction");
                }
            }
        }
    }

    @Test
    void gradientsAreThoseOfTheForwardWithTheRowNormHeldConstant() throws Exception {
        try (CausalLM model = Architectures.load(SharedData.require("models/stories260K"))) {
            attach(model, false);
            LoraLinear q = model.weights().projections().getFirst();
            LoraPair p = q.adapter(Adapters.DEFAULT);
            int out = q.outFeatures(), in = q.inFeatures(), r = p.rank(), rows = 3;
            float[] x = Tensor.randn(new Rng(11), 1f, rows * in).toFloatArray(), weights = Tensor.randn(new Rng(12), 1f, rows * out).toFloatArray();
            Variable y = q.apply(Variable.constant(Tensor.of(x, rows, in)), AdapterRouting.uniform(List.of(Adapters.DEFAULT)), null);
            Reductions.sum(org.jtune.autograd.Arithmetic.mul(y, Variable.constant(Tensor.of(weights, rows, out)))).backward();
            double[] w = toDouble(q.weight().value().toFloatArray()), a = toDouble(p.a().value().toFloatArray()),
                    b = toDouble(p.b().value().toFloatArray()), m = toDouble(p.magnitude().value().toFloatArray());
            double[] norm = new double[out]; // ‖W + s·B·A‖ per row at the point of the check, then held constant
            for (int i = 0; i < out; i++) {
                double sq = 0;
                for (int k = 0; k < in; k++) {
                    double v = w[i * in + k];
                    for (int j = 0; j < r; j++) v += p.scale() * b[i * r + j] * a[j * in + k];
                    sq += v * v;
                }
                norm[i] = Math.sqrt(sq);
            }
            Loss loss = (aa, bb, mm) -> {
                double l = 0;
                for (int t = 0; t < rows; t++) {
                    for (int i = 0; i < out; i++) {
                        double base = 0, delta = 0;
                        for (int k = 0; k < in; k++) base += x[t * in + k] * w[i * in + k];
                        for (int j = 0; j < r; j++) {
                            double ax = 0;
                            for (int k = 0; k < in; k++) ax += aa[j * in + k] * x[t * in + k];
                            delta += bb[i * r + j] * ax;
                        }
                        l += weights[t * out + i] * mm[i] / norm[i] * (base + p.scale() * delta);
                    }
                }
                return l;
            };
            check("m", p.magnitude().grad().toFloatArray(), m, v -> loss.of(a, b, v));
            check("A", p.a().grad().toFloatArray(), a, v -> loss.of(v, b, m));
            check("B", p.b().grad().toFloatArray(), b, v -> loss.of(a, v, m));
        }
    }

    private interface Loss {
        double of(double[] a, double[] b, double[] m);
    }

    /** Central differences (h = 1e-4, in double) at a few entries against the analytic gradient. */
    private static void check(String what, float[] grad, double[] at, java.util.function.ToDoubleFunction<double[]> f) {
        Rng rng = new Rng(what.hashCode());
        for (int n = 0; n < 6; n++) {
            int i = rng.nextInt(at.length);
            double[] up = at.clone(), down = at.clone();
            up[i] += 1e-4;
            down[i] -= 1e-4;
            double fd = (f.applyAsDouble(up) - f.applyAsDouble(down)) / 2e-4;
            assertEquals(fd, grad[i], 2e-3 * (1 + Math.abs(fd)), what + "[" + i + "]");
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    @Test
    void magnitudesAndUseDoraMustAgree(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM model = Architectures.load(dir)) {
            attach(model, false);
            PeftFormat.save(tmp.resolve("dora"), model, Adapters.DEFAULT, dir.toString());
        }
        Path config = tmp.resolve("dora/adapter_config.json");
        Files.writeString(config, Files.readString(config).replace("\"use_dora\" : true", "\"use_dora\" : false"));
        try (CausalLM model = Architectures.load(dir)) {
            JtuneException e = assertThrows(JtuneException.class, () -> PeftFormat.load(tmp.resolve("dora"), model));
            assertTrue(e.getMessage().contains("lora_magnitude_vector is there, but adapter_config.json does not say use_dora"), e.getMessage());
        }
    }
}
