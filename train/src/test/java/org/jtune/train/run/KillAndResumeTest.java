package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jtune.tensor.Parallel;
import org.jtune.testing.SharedData;
import org.jtune.train.recipe.RecipeReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed with SIGKILL at a random moment after its first checkpoint, then resumed, ends with an
 * adapter bit-identical to an uninterrupted run's: weights, optimizer moments, scheduler, dropout RNG
 * and the data cursor are all restored.
 */
class KillAndResumeTest {
    @Test
    void killedRunResumesToTheSameAdapter(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        List<String> lines = Files.readAllLines(SharedData.require("data/banking15/train.jsonl")).subList(0, 40);
        Path data = Files.write(tmp.resolve("train.jsonl"), lines);
        Path recipe = Files.writeString(tmp.resolve("recipe.yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                chat_template: llama2
                system_message: Classify the intent.
                sequence_len: 256
                adapter: lora
                lora_r: 4
                lora_alpha: 8
                lora_dropout: 0.1
                lora_target_modules: [q_proj, v_proj, down_proj]
                trainable_token_indices: [eos]
                learning_rate: 0.003
                warmup_steps: 2
                max_steps: 14
                micro_batch_size: 4
                gradient_accumulation_steps: 2
                save_steps: 2
                threads: 1
                seed: 7
                output_dir: unused
                """.formatted(model, data));
        int threads = Parallel.threads();
        try {
            FineTune.Result straight = FineTune.run(RecipeReader.read(recipe), tmp.resolve("straight"), false, new FineTune.Listener() {});
            if (Boolean.getBoolean("jtune.determinismProbe")) {
                FineTune.Result again = FineTune.run(RecipeReader.read(recipe), tmp.resolve("again"), false, new FineTune.Listener() {});
                assertArrayEquals(Files.readAllBytes(straight.output().resolve("adapter_model.safetensors")),
                        Files.readAllBytes(again.output().resolve("adapter_model.safetensors")), "same process, second run");
            }

            Path killed = tmp.resolve("killed");
            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp",
                    System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    ResumeChild.class.getName(), recipe.toString(), killed.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
            Path checkpoints = killed.resolve("checkpoints");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            int wantCheckpoints = 1 + new java.util.Random().nextInt(3);
            while (child.isAlive() && System.nanoTime() < deadline && count(checkpoints) < wantCheckpoints) Thread.sleep(20);
            Thread.sleep(new java.util.Random().nextInt(300));
            child.destroyForcibly().waitFor();
            assertTrue(count(checkpoints) >= 1, "the child wrote no checkpoint before it was killed:\n" + Files.readString(tmp.resolve("child.log")));
            assertFalse(Files.exists(killed.resolve("adapter")), "the child finished before it could be killed; make the run longer");

            FineTune.Result resumed = FineTune.run(RecipeReader.read(recipe), killed, true, new FineTune.Listener() {});
            assertEquals(straight.steps(), resumed.steps());
            assertArrayEquals(Files.readAllBytes(straight.output().resolve("adapter_model.safetensors")),
                    Files.readAllBytes(resumed.output().resolve("adapter_model.safetensors")), "adapter bytes");
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static long count(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) return 0;
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).count();
        }
    }
}
