package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.Variable;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetReader;
import org.jtune.train.data.IssueLog;
import org.jtune.train.prep.Batcher;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.prep.TokenizedExample;
import org.junit.jupiter.api.Test;

/**
 * Accumulating k micro-batches equals one batch k times larger: same loss, same gradients, although
 * the examples have different numbers of trained tokens (the loss is normalised by the window's total,
 * not averaged per micro-batch — the mistake other trainers made). Packed and padded batching agree too.
 */
class GradientAccumulationTest {
    @Test
    void fourMicroBatchesEqualOneBatchOfEight() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        Path data = SharedData.require("data/banking15/validation.jsonl");
        Tokenizer tok = Tokenizer.load(dir);
        ChatEncoder enc = new ChatEncoder(ChatTemplate.named("llama2"), tok, "Classify the intent.", true);
        List<Conversation> conv = DatasetReader.detecting().read(data, new IssueLog()).examples().subList(0, 8);
        List<TokenizedExample> examples = new ArrayList<>();
        for (Conversation c : conv) examples.add(enc.encode(c));

        float[][] oneBatch = gradients(dir, m -> FineTune.accumulateGradients(m, Batcher.padded(examples, 8, 0), null, false));
        float[][] micro = gradients(dir, m -> FineTune.accumulateGradients(m, Batcher.padded(examples, 2, 0), null, false));
        float[][] packed = gradients(dir, m -> FineTune.accumulateGradients(m, Batcher.packed(examples, 1, 512, 0), null, true));
        for (int i = 0; i < oneBatch.length; i++) {
            // only the summation order differs: ‖Δ‖/‖g‖ at float rounding level (a wrong normalisation is off by tens of %)
            assertTrue(relative(oneBatch[i], micro[i]) < 1e-5, "parameter " + i + " (micro-batches): " + relative(oneBatch[i], micro[i]));
            assertTrue(relative(oneBatch[i], packed[i]) < 1e-5, "parameter " + i + " (packed, checkpointed): " + relative(oneBatch[i], packed[i]));
        }
    }

    /**
     * Micro-batches run in a step pool (the trainer's default) give the very gradients of the same run
     * without one: packed micro-batches all have one shape, so the later ones are served entirely from
     * the first one's (zeroed) buffers.
     */
    @Test
    void aStepPoolChangesNoBitOfTheGradients() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        Path data = SharedData.require("data/banking15/validation.jsonl");
        Tokenizer tok = Tokenizer.load(dir);
        ChatEncoder enc = new ChatEncoder(ChatTemplate.named("llama2"), tok, "Classify the intent.", true);
        List<TokenizedExample> examples = new ArrayList<>();
        for (Conversation c : DatasetReader.detecting().read(data, new IssueLog()).examples().subList(0, 12)) examples.add(enc.encode(c));
        var batches = Batcher.packed(examples, 1, 256, 0);
        assertTrue(batches.size() >= 2, "several micro-batches of one shape");
        org.jtune.tensor.StepBufferPool pool = new org.jtune.tensor.StepBufferPool();
        float[][] plain = gradients(dir, m -> FineTune.accumulateGradients(m, batches, null, false));
        float[][] pooled = gradients(dir, m -> FineTune.accumulateGradients(m, batches, null, false, pool));
        assertTrue(pool.counts()[0] > 0, "buffers were lent again");
        for (int i = 0; i < plain.length; i++) org.junit.jupiter.api.Assertions.assertArrayEquals(plain[i], pooled[i], "parameter " + i);
    }

    interface Step {
        double run(CausalLM m);
    }

    private static float[][] gradients(Path dir, Step step) throws Exception {
        try (CausalLM model = Architectures.load(dir)) {
            Map<String, Variable> params = LoraAdapters.attach(model, Adapters.DEFAULT,
                    new LoraConfig(4, 8, 0, LoraConfig.ALL_LINEAR, false, List.of(2)), new Rng(1), false);
            // B starts at zero: give it values so that every adapter receives gradient through both factors.
            Rng rng = new Rng(2);
            for (var e : params.entrySet()) {
                if (e.getKey().endsWith("lora_B.weight")) {
                    Tensor b = e.getValue().value();
                    org.jtune.tensor.Ops.copyInto(Tensor.randn(rng, 0.02f, b.shape()), b);
                }
            }
            double loss = step.run(model);
            assertTrue(Double.isFinite(loss));
            float[][] g = new float[params.size()][];
            int i = 0;
            for (Variable v : params.values()) g[i++] = v.grad().toFloatArray();
            return g;
        }
    }

    private static double relative(float[] want, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (want[i] - (double) got[i]) * (want[i] - (double) got[i]);
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
