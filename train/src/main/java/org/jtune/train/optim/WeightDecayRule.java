package org.jtune.train.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jtune.autograd.Variable;

/**
 * Which parameters get weight decay. The rule Hugging Face's Trainer and most LLM recipes use:
 * decay matrices (rank ≥ 2) only; never biases, norm weights (RMSNorm/LayerNorm gains) or any 1-D
 * tensor, since decaying a gain or a shift towards zero has no regularising meaning. Embeddings and
 * LoRA A/B matrices are rank 2 and are decayed.
 */
public final class WeightDecayRule {
    private WeightDecayRule() {}

    /** True when {@code p} should be decayed. */
    public static boolean decays(Variable p) {
        if (p.rank() < 2) return false;
        String n = p.name().toLowerCase(Locale.ROOT);
        if (n.endsWith(".bias") || n.equals("bias")) return false;
        String module = n.contains(".") ? n.substring(0, n.lastIndexOf('.')) : n;
        return !(module.endsWith("norm") || module.endsWith("_ln") || module.endsWith(".ln"));
    }

    /**
     * Splits {@code params} into a "decay" group with {@code weightDecay} and a "no_decay" group with
     * 0, in input order; an empty group is left out.
     */
    public static List<ParamGroup> split(List<Variable> params, double weightDecay) {
        List<Variable> decay = new ArrayList<>(), none = new ArrayList<>();
        for (Variable p : params) (decays(p) ? decay : none).add(p);
        List<ParamGroup> groups = new ArrayList<>(2);
        if (!decay.isEmpty()) groups.add(new ParamGroup("decay", decay, weightDecay));
        if (!none.isEmpty()) groups.add(new ParamGroup("no_decay", none, 0.0));
        return groups;
    }
}
