package org.jtune.train.optim;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.Variable;

/**
 * LoRA+ (Hayou, Ghosh and Yu, "LoRA+: Efficient Low Rank Adaptation of Large Models", ICML 2024): LoRA's B matrices learn
 * at {@code ratio} times the rate of its A matrices (the paper suggests 16), which it shows lets the adapter's features
 * learn efficiently in wide models. As PEFT's create_loraplus_optimizer groups them: every B matrix (a parameter named
 * "….lora_B.weight") moves to a group of its own at the group's rate times the ratio, keeping its weight decay; all else
 * keeps its group.
 */
public final class LoraPlus {
    private LoraPlus() {}

    /** The groups with LoRA's B matrices split off at {@code ratio} times their group's rate; empty groups are left out. */
    public static List<ParamGroup> groups(List<ParamGroup> groups, double ratio) {
        List<ParamGroup> out = new ArrayList<>();
        for (ParamGroup g : groups) {
            List<Variable> b = new ArrayList<>(), rest = new ArrayList<>();
            for (Variable p : g.params()) (p.name().endsWith(".lora_B.weight") ? b : rest).add(p);
            if (!rest.isEmpty()) out.add(new ParamGroup(g.name(), rest, g.weightDecay(), g.lrScale()));
            if (!b.isEmpty()) out.add(new ParamGroup(g.name() + "_lora_B", b, g.weightDecay(), g.lrScale() * ratio));
        }
        return out;
    }
}
