package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.Backends;
import org.jtune.tensor.Parallel;
import org.jtune.testing.SharedData;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short LoRA run of stories260K (recipe key {@code device: opencl:0}) against the same run on the CPU: the
 * weights, adapter, gradients and AdamW state live on the OpenCL device (PoCL in CI) and only batches and
 * metrics cross. The per-step losses agree within a bound derived from float rounding (below), and the
 * trained adapter is the same to within the same order.
 *
 * <p>The bound. Both runs compute the same maths in F32 with different summation orders (the CPU's vector
 * lanes, the device's index order), so each reduction of k terms differs by at most about (k+2)·U·Σ|terms|
 * with U = 2⁻²⁴ ≈ 6·10⁻⁸. The largest reductions of a step are the vocabulary softmax (k = 512) and the
 * batch's loss mean; through the 5 layers' chain of norms, projections and attention the relative
 * difference of a logit stays below ~100 such terms, ≈ 512·100·U ≈ 3·10⁻³ of the logits' magnitude in the
 * worst case, and far less on average (errors of opposite sign cancel). The loss of step 1 depends only on
 * that forward pass: |Δ| ≤ 1e-3·loss. Each later step adds the difference of one AdamW update, whose size
 * is about lr per weight whatever the gradient's scale (m/√v), so a relative gradient difference δ moves
 * the update by ≈ lr·δ and the loss by a few times that; we allow 1e-3·loss more per step.
 */
class OpenClTrainingTest {
    @TempDir
    Path tmp;

    @Test
    void loraLossesOnOpenClMatchTheCpuRun() throws Exception {
        Assumptions.assumeTrue(Backends.OPENCL != null, () -> "no OpenCL device: " + Backends.openClAbsence);
        Path model = SharedData.require("models/stories260K");
        List<String> lines = new ArrayList<>();
        String[][] pairs = {{"my card was charged twice", "duplicate"}, {"where is my transfer", "transfer"},
                {"the fee is too high", "fee"}, {"refund my payment please", "refund"}, {"cash machine took my card", "card"},
                {"I was charged twice today", "duplicate"}, {"transfer has not arrived", "transfer"}, {"why a fee here", "fee"}};
        for (String[] p : pairs) {
            lines.add("{\"messages\": [{\"role\": \"user\", \"content\": \"" + p[0] + "\"}, {\"role\": \"assistant\", \"content\": \"" + p[1] + "\"}]}");
        }
        Path data = Files.write(tmp.resolve("train.jsonl"), lines);
        String recipe = """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                chat_template: llama2
                sequence_len: 64
                adapter: lora
                lora_r: 4
                lora_alpha: 8
                lora_target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
                learning_rate: 0.01
                max_steps: 6
                micro_batch_size: 2
                gradient_accumulation_steps: 2
                save_steps: 6
                threads: 1
                seed: 7
                output_dir: unused
                """.formatted(model, data);
        int threads = Parallel.threads();
        try {
            RecipeConfig cpu = RecipeReader.read(Files.writeString(tmp.resolve("cpu.yaml"), recipe));
            RecipeConfig cl = RecipeReader.read(Files.writeString(tmp.resolve("cl.yaml"), recipe + "device: opencl:0\n"));
            List<Double> onCpu = losses(cpu, tmp.resolve("run-cpu")), onCl = losses(cl, tmp.resolve("run-cl"));
            assertEquals(6, onCpu.size());
            assertEquals(onCpu.size(), onCl.size());
            double worst = 0;
            for (int s = 0; s < onCpu.size(); s++) {
                double bound = 1e-3 * (s + 1) * Math.abs(onCpu.get(s)), diff = Math.abs(onCpu.get(s) - onCl.get(s));
                worst = Math.max(worst, diff / Math.abs(onCpu.get(s)));
                assertTrue(diff <= bound, "step " + (s + 1) + ": loss " + onCl.get(s) + " on OpenCL, " + onCpu.get(s) + " on the CPU (bound " + bound + ")");
            }
            assertTrue(onCpu.getLast() < onCpu.getFirst(), "the run learns: " + onCpu);
            System.err.printf("OpenCL LoRA run: losses %s (CPU %s), largest relative difference %.2e%n", onCl, onCpu, worst);
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static List<Double> losses(RecipeConfig recipe, Path runDir) throws Exception {
        List<Double> losses = new ArrayList<>();
        FineTune.run(recipe, runDir, false, new FineTune.Listener() {
            @Override
            public void step(FineTune.StepMetrics m) {
                losses.add(m.loss());
            }
        });
        return losses;
    }
}
