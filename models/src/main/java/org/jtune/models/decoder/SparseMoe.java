package org.jtune.models.decoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Concat;
import org.jtune.autograd.Reductions;
import org.jtune.autograd.Rows;
import org.jtune.autograd.Softmax;
import org.jtune.autograd.Variable;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * A mixture-of-experts MLP (transformers' Qwen3MoeSparseMoeBlock, MixtralSparseMoeBlock), over the N = B·T rows of x:
 * <pre>
 *   p = softmax(x · routerᵀ)                    (N, experts), in float
 *   S(n) = the k most probable experts of row n,  w(n, e) = p(n, e) for e in S(n)
 *   normalizeTopK: w(n, e) = w(n, e) / Σ_{e' in S(n)} p(n, e')
 *   y(n) = Σ_{e in S(n)} w(n, e) · expert_e(x(n))    (each expert a {@link GatedMlp})
 * </pre>
 * Each expert sees only its rows ({@link Rows#select}), its answers are weighted and added back ({@link Rows#scatter}), so a
 * step costs k experts per token, not all of them. The choice S is not differentiable (as in torch, where topk passes no
 * gradient through its indices); the router learns through the weights w. A tie between probabilities keeps the
 * lower expert index. The router stays in full precision ({@link Weight.Role#ROUTER}: never quantized, as llama.cpp
 * leaves ffn_gate_inp) and is a LoRA target like the experts' projections (PEFT's all-linear adapts it: module "gate").
 */
public final class SparseMoe implements FeedForward {
    /**
     * Where a family's checkpoint keeps a sparse layer's tensors, after the layer's prefix: the router's name, and each
     * projection's with {@code %d} for the expert (e.g. "mlp.experts.%d.gate_proj.weight").
     */
    public record Names(String router, String gate, String up, String down) {
        String expert(String pattern, String layer, int expert) {
            return layer + pattern.replace("%d", Integer.toString(expert));
        }
    }

    private final LoraLinear router;      // (experts, dim)
    private final List<GatedMlp> experts;
    private final int topK;
    private final boolean normalize;

    private SparseMoe(LoraLinear router, List<GatedMlp> experts, int topK, boolean normalize) {
        this.router = router;
        this.experts = experts;
        this.topK = topK;
        this.normalize = normalize;
    }

    /** Declares the router, then each expert's gate, up and down, of the layer whose names start with {@code layer}. */
    public static SparseMoe declare(WeightTable table, String layer, Names names, MoeConfig moe, int dim) {
        LoraLinear router = table.projection(layer + names.router(), Weight.Role.ROUTER, moe.numExperts(), dim);
        List<GatedMlp> experts = new ArrayList<>(moe.numExperts());
        for (int e = 0; e < moe.numExperts(); e++) {
            experts.add(GatedMlp.declare(table, names.expert(names.gate(), layer, e), names.expert(names.up(), layer, e),
                    names.expert(names.down(), layer, e), dim, moe.expertIntermediateSize()));
        }
        return new SparseMoe(router, List.copyOf(experts), moe.expertsPerToken(), moe.normalizeTopK());
    }

    @Override
    public Variable apply(Variable x, AdapterRouting routing, Rng dropout) {
        int[] shape = x.shape();
        int dim = shape[shape.length - 1], e = experts.size();
        Variable rows = x.reshape(-1, dim);
        int n = rows.size(0);
        Variable probs = Softmax.softmax(router.apply(rows, routing, dropout), -1);          // (N, E)
        int[] chosen = Ops.topK(probs.value(), topK)[1].toIntArray();                      // (N, k) row-major
        // the chosen probabilities as a variable (N·k, 1), in slot order n·k + s
        int[] flat = new int[n * topK];
        for (int i = 0; i < flat.length; i++) flat[i] = (i / topK) * e + chosen[i];
        Variable w = Rows.select(probs.reshape(n * e, 1), Tensor.ofInts(flat, flat.length));
        if (normalize) {
            Variable kw = w.reshape(n, topK);
            w = Arithmetic.div(kw, Reductions.sum(kw, -1, true)).reshape(n * topK, 1);
        }
        // each expert's rows in ascending order, and the slots they fill
        int[][] tokens = new int[e][], slots = new int[e][];
        int[] count = new int[e];
        for (int c : chosen) count[c]++;
        for (int j = 0; j < e; j++) {
            tokens[j] = new int[count[j]];
            slots[j] = new int[count[j]];
        }
        Arrays.fill(count, 0);
        for (int i = 0; i < chosen.length; i++) {
            int j = chosen[i];
            tokens[j][count[j]] = i / topK;
            slots[j][count[j]++] = i;
        }
        List<Variable> answers = new ArrayList<>();
        int[] allTokens = new int[chosen.length], allSlots = new int[chosen.length];
        int at = 0;
        for (int j = 0; j < e; j++) {
            if (tokens[j].length == 0) continue;
            Tensor picked = Tensor.ofInts(tokens[j], tokens[j].length);
            answers.add(experts.get(j).apply(Rows.select(rows, picked), routing.pick(tokens[j]), dropout));
            System.arraycopy(tokens[j], 0, allTokens, at, tokens[j].length);
            System.arraycopy(slots[j], 0, allSlots, at, slots[j].length);
            at += tokens[j].length;
        }
        Variable weighted = Arithmetic.mul(answers.size() == 1 ? answers.getFirst() : Concat.apply(answers, 0),
                Rows.select(w, Tensor.ofInts(allSlots, allSlots.length)));
        return Rows.scatter(weighted, Tensor.ofInts(allTokens, allTokens.length), n).reshape(shape);
    }
}
