package org.jtune.models.lora;

import java.util.List;
import java.util.Locale;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;

/**
 * The measured difference between a merged model and the base + adapter it came from, on a few prompts:
 * the largest |logit difference| over every position of every prompt, and the agreement of their greedy
 * continuations (the fraction of positions, up to the first divergence and counting the rest as different,
 * where both chose the same token). A QLoRA merge is into the dequantized NF4 base, so the two differ by F32
 * rounding only; a merge into the original full-precision base would differ by the quantization error.
 */
public record MergeCheck(double maxAbsLogitDiff, double tokenAgreement, int prompts, int tokensCompared) {
    public static MergeCheck of(CausalLM merged, CausalLM reference, List<int[]> prompts, int newTokens) throws org.jtune.JtuneException {
        double maxDiff = 0;
        int same = 0, total = 0;
        for (int[] p : prompts) {
            float[] a = logits(merged, p), b = logits(reference, p);
            for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
            SamplingConfig cfg = SamplingConfig.greedy(newTokens);
            int[] x = Generator.generate(merged, List.of(p), cfg, null, null).getFirst().outputIds();
            int[] y = Generator.generate(reference, List.of(p), cfg, null, null).getFirst().outputIds();
            int n = Math.max(x.length, y.length), k = 0;
            while (k < Math.min(x.length, y.length) && x[k] == y[k]) k++;
            same += k;
            total += n;
        }
        return new MergeCheck(maxDiff, total == 0 ? 1 : same / (double) total, prompts.size(), total);
    }

    private static float[] logits(CausalLM model, int[] prompt) {
        try (var g = NoGrad.enter()) {
            int t = prompt.length;
            int[] pos = new int[t];
            for (int i = 0; i < t; i++) pos[i] = i;
            Variable h = model.hidden(Tensor.ofInts(prompt, 1, t), Tensor.ofInts(pos, 1, t), ForwardPass.of(AttentionMask.causalMask()));
            return model.logits(h).value().toFloatArray();
        }
    }

    public String json() {
        return String.format(Locale.ROOT, "{\"max_abs_logit_diff\": %.6g, \"token_agreement\": %.4f, \"prompts\": %d, \"tokens_compared\": %d}",
                maxAbsLogitDiff, tokenAgreement, prompts, tokensCompared);
    }

    public String summary() {
        return String.format(Locale.ROOT, "merged vs base + adapter on %d prompts: max |logit diff| %.3g, greedy token agreement %.1f%% of %d tokens",
                prompts, maxAbsLogitDiff, 100 * tokenAgreement, tokensCompared);
    }
}
