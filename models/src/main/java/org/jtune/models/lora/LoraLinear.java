package org.jtune.models.lora;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Dropout;
import org.jtune.autograd.Graph;
import org.jtune.autograd.Linear;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * A Hugging Face Linear (weight (out, in), no bias) that may carry LoRA adapters by name, as PEFT's
 * LoraLayer does: y = x·Wᵀ + Σ_adapters scale · dropout(x)·Aᵀ·Bᵀ over the adapters that
 * {@link AdapterRouting} applies to each row. The base weight lives in its {@link Weight} (any
 * stored dtype; trainable only in full fine-tuning). Rows routed to different adapters (a server's
 * batch of requests for different fine-tunes) go through all their adapters in one segmented call that adds
 * into their rows of the base output in place (the batched application of Punica/S-LoRA), under no-grad only.
 * A DoRA pair then rescales its rows of the output: y ← (m / ‖W + scale·B·A‖_row) ⊙ y ({@link DoraScale}); the factor
 * of a frozen pair (inference) is computed once and kept.
 */
public final class LoraLinear {
    private final Weight weight;
    private final Map<String, LoraPair> adapters = new LinkedHashMap<>();
    private double[] baseRowNormsSquared;                                  // DoRA: ‖W_i‖² of the base tensor below
    private Tensor rowNormsOf;                                             // (a merge or a device move gives a new tensor)
    private final Map<String, Tensor> frozenDoraFactors = new java.util.HashMap<>(); // DoRA factors of frozen pairs, by adapter

    public LoraLinear(Weight weight) {
        this.weight = weight;
    }

    /** The Hugging Face name of the weight, e.g. model.layers.3.self_attn.q_proj.weight. */
    public String name() {
        return weight.name();
    }

    public Weight base() {
        return weight;
    }

    public Variable weight() {
        return weight.value();
    }

    public int inFeatures() {
        return weight.size(1);
    }

    public int outFeatures() {
        return weight.size(0);
    }

    /** The pair of adapter {@code name} on this projection, or null when that adapter does not target it. */
    public LoraPair adapter(String name) {
        return adapters.get(name);
    }

    /** Adapter name → pair, in the order they were added. */
    public Map<String, LoraPair> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    /** Adds or replaces adapter {@code name}'s pair on this projection. */
    public void putAdapter(String name, LoraPair pair) {
        if (pair.a().size(1) != inFeatures() || pair.b().size(0) != outFeatures()) {
            throw new IllegalArgumentException(name() + ": adapter " + name + " has A " + pair.a().value() + " and B " + pair.b().value()
                    + ", which do not fit a (" + outFeatures() + ", " + inFeatures() + ") projection");
        }
        adapters.put(name, pair);
        frozenDoraFactors.remove(name);
    }

    public void removeAdapter(String name) {
        adapters.remove(name);
        frozenDoraFactors.remove(name);
    }

    /**
     * DoRA's per-row factor m / ‖W + scale·B·A‖ of a pair (null without DoRA): recorded (gradient to m) while the
     * magnitude trains, else a constant kept until the pair changes.
     */
    Variable doraFactor(String name, LoraPair p) {
        if (p.magnitude() == null) return null;
        if (!p.magnitude().requiresGrad() && !p.a().requiresGrad() && !p.b().requiresGrad()) {
            Tensor kept = frozenDoraFactors.get(name);
            if (kept == null) {
                kept = Ops.mul(p.magnitude().value().to(org.jtune.tensor.DType.F32), inverseNorms(p));
                frozenDoraFactors.put(name, kept);
            }
            return Variable.constant(kept);
        }
        return Arithmetic.mul(p.magnitude(), Variable.constant(inverseNorms(p)));
    }

    private Tensor inverseNorms(LoraPair p) {
        Tensor w = weight.value().value();
        if (rowNormsOf != w) {
            baseRowNormsSquared = DoraScale.rowNormsSquared(w);
            rowNormsOf = w;
        }
        return DoraScale.inverseNorms(w, baseRowNormsSquared, p.a().value(), p.b().value(), p.scale()).to(w.device());
    }

    /** y = x·Wᵀ plus the routed adapters' contributions; {@code rng} drives adapter dropout in training (null: none). */
    public Variable apply(Variable x, AdapterRouting routing, Rng rng) {
        Variable y = Linear.apply(x, weight.value());
        if (adapters.isEmpty() || routing.isBase()) return y;
        if (routing.uniform() != null) {
            for (String name : routing.uniform()) {
                LoraPair p = adapters.get(name);
                if (p == null) continue;
                Variable in = p.dropout() > 0 && rng != null && !NoGrad.active() ? Dropout.apply(x, p.dropout(), rng) : x;
                // scaled in r columns, not out: one pass over the rank-r product instead of over the output (exact
                // either way when the scale is a power of two, as alpha / r usually is)
                Variable delta = Linear.apply(Arithmetic.scale(Linear.apply(in, p.a()), p.scale()), p.b());
                Variable dora = doraFactor(name, p);
                if (dora == null) y = Arithmetic.add(y, delta);
                else if (in == x) y = Arithmetic.mul(Arithmetic.add(y, delta), dora); // m/‖·‖ ⊙ (x·Wᵀ + delta)
                else { // PEFT with dropout: the rescaled base term sees the dropped input too
                    Variable rescaledBase = Arithmetic.mul(Linear.apply(in, weight.value()), Arithmetic.addScalar(dora, -1f));
                    y = Arithmetic.add(y, Arithmetic.add(rescaledBase, Arithmetic.mul(delta, dora)));
                }
            }
            return y;
        }
        if (Graph.recording(x)) throw new IllegalStateException(name() + ": per-row adapter routing is for inference (no-grad) only");
        Tensor routed = addRouted(y.value(), x.value(), routing);
        Tensor rows = routed.reshape(-1, outFeatures());
        for (AdapterRouting.Run r : routing.runs()) { // DoRA runs: their rows rescaled after their adapter's delta
            LoraPair p = r.adapter() == null || r.length() == 0 ? null : adapters.get(r.adapter());
            Variable dora = p == null ? null : doraFactor(r.adapter(), p);
            if (dora == null) continue;
            Tensor part = rows.narrow(0, r.start(), r.length());
            Ops.copyInto(Ops.mul(part, dora.value()), part);
        }
        return Variable.constant(routed);
    }

    /**
     * Whether routed rows go through the segmented kernel ({@link Ops#loraSegments}, the default: every run of
     * a projection in one call) or run by run, one pair of products per run as before; for benchmarks that
     * compare both in one run (system property {@code jtune.lora.segmented=false}). Rows get the same
     * tokens either way up to float rounding (the summation orders differ).
     */
    public static void setSegmentedKernel(boolean on) {
        segmented = on;
    }

    public static boolean segmentedKernel() {
        return segmented;
    }

    private static volatile boolean segmented = !"false".equals(System.getProperty("jtune.lora.segmented"));

    /**
     * Adds the adapters' contributions to the rows routed to them into y (the fresh output of the base
     * projection, so it is written in place). Segmented (the default): one call over all runs, each run's A and
     * B read once, rows of the base model skipped (Punica's SGMV; {@link Ops#loraSegments}). Run by run: a run's
     * rows go through A, are scaled (r columns, not out), and their product with B is accumulated into the same
     * rows of y. A step batch groups its sequences by adapter (StepBatch), so each adapter is one run.
     */
    private Tensor addRouted(Tensor y, Tensor x, AdapterRouting routing) {
        int in = inFeatures(), out = outFeatures();
        Tensor rows = x.reshape(-1, in), yRows = y.reshape(-1, out);
        int n = rows.size(0);
        if (routing.rows() != n) throw new IllegalArgumentException(name() + ": routing covers " + routing.rows() + " rows, input has " + n);
        List<AdapterRouting.Run> runs = routing.runs();
        if (segmented) {
            int k = runs.size();
            int[] starts = new int[k + 1];
            Tensor[] a = new Tensor[k], b = new Tensor[k];
            float[] scale = new float[k];
            for (int i = 0; i < k; i++) {
                AdapterRouting.Run r = runs.get(i);
                starts[i] = r.start();
                starts[i + 1] = r.start() + r.length();
                LoraPair p = r.adapter() == null ? null : adapters.get(r.adapter());
                if (p == null) continue;
                a[i] = p.a().value();
                b[i] = p.b().value();
                scale[i] = p.scale();
            }
            Ops.loraSegments(rows, starts, a, b, scale, k, yRows);
            return y;
        }
        for (AdapterRouting.Run r : runs) {
            LoraPair p = r.adapter() == null || r.length() == 0 ? null : adapters.get(r.adapter());
            if (p == null) continue;
            Tensor h = Ops.linear(rows.narrow(0, r.start(), r.length()), p.a().value());
            Ops.scaleInPlace(h, p.scale());
            Ops.matmulInto(h, p.b().value().t(), yRows.narrow(0, r.start(), r.length()), true); // y rows += h·Bᵀ, no temporary
        }
        return y;
    }
}
