package org.jtune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.Tensor;
import org.jtune.train.prep.Batch;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.run.FineTune;

/**
 * `jtune bench train_reference`: the first optimizer steps of full fine-tuning of stories260K on
 * banking15 (64 examples, micro-batches of 4 accumulated by 2, AdamW, warmup, clipping), printed as
 * one JSON line per step with its learning rate, our loss and the exact micro-batches (ids, targets),
 * so that bench/peers/torch_first_steps.py can replay them in PyTorch and compare the losses.
 * Needs ../shared (or JTUNE_SHARED).
 */
final class TrainReferenceDump {
    int run() throws Exception {
        Path shared = Path.of(System.getenv().getOrDefault("JTUNE_SHARED", "../shared")).toAbsolutePath().normalize();
        Path model = shared.resolve("models/stories260K"), data = shared.resolve("data/banking15/train.jsonl");
        if (!Files.exists(model) || !Files.exists(data)) {
            System.err.println("train_reference: needs " + model + " and " + data + " (set JTUNE_SHARED)");
            return 2;
        }
        Path tmp = Files.createTempDirectory("jtune-train-reference-");
        Path subset = Files.write(tmp.resolve("train.jsonl"), Files.readAllLines(data).subList(0, 64));
        Path recipe = Files.writeString(tmp.resolve("recipe.yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                chat_template: llama2
                system_message: Classify the intent.
                sequence_len: 512
                adapter: full
                learning_rate: 0.001
                warmup_steps: 2
                max_steps: 6
                micro_batch_size: 4
                gradient_accumulation_steps: 2
                weight_decay: 0.0
                max_grad_norm: 1.0
                seed: 3
                output_dir: run
                """.formatted(model, subset));
        ObjectMapper json = new ObjectMapper();
        List<ObjectNode> steps = new ArrayList<>();
        FineTune.run(RecipeReader.read(recipe), tmp.resolve("run"), false, new FineTune.Listener() {
            @Override
            public void window(long step, List<Batch> batches) {
                ObjectNode o = json.createObjectNode().put("step", step);
                ArrayNode bs = o.putArray("batches");
                for (Batch b : batches) {
                    ObjectNode bn = bs.addObject();
                    bn.set("ids", rows(json, b.ids()));
                    bn.set("targets", rows(json, b.targets()));
                }
                steps.add(o);
            }

            @Override
            public void step(FineTune.StepMetrics m) {
                steps.get((int) m.step() - 1).put("lr", m.lr()).put("loss", m.loss());
            }
        });
        for (ObjectNode o : steps) System.out.println(o);
        return 0;
    }

    private static ArrayNode rows(ObjectMapper json, Tensor t) {
        ArrayNode a = json.createArrayNode();
        int[] v = t.toIntArray();
        int cols = t.size(1);
        for (int r = 0; r < t.size(0); r++) {
            ArrayNode row = a.addArray();
            for (int c = 0; c < cols; c++) row.add(v[r * cols + c]);
        }
        return a;
    }
}
