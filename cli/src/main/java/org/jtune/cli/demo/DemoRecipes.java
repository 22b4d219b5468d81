package org.jtune.cli.demo;

import org.jtune.io.AtomicFile;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.recipe.RecipeReader;

/**
 * The demo's two training recipes, written as YAML files in the demo folder and read back with
 * {@link RecipeReader}, so what runs is exactly what `jtune train FILE` runs again (paths in them are
 * relative to the folder). Pre-training: full training of the random model on the unlabelled corpus.
 * Fine-tuning: LoRA r=16 on every linear projection plus the EOS row (so the model learns to stop),
 * with validation accuracy (generation) during training.
 */
final class DemoRecipes {
    static final String PRETRAIN = "pretrain.yaml";
    static final String LORA = "lora.yaml";
    static final String PRETRAIN_RUN = "runs/pretrain";
    static final String LORA_RUN = "runs/lora";
    static final int MICRO_BATCH = 16;

    private DemoRecipes() {}

    static RecipeConfig pretrain(Path dir, DemoSize size) throws JtuneException {
        return write(dir.resolve(PRETRAIN), """
                # jtune demo, step 3: full training of the random model on unlabelled text (a stand-in for pre-training)
                base_model: %s
                datasets:
                  - path: data/pretrain.jsonl
                    type: text
                sequence_len: 128
                adapter: full
                learning_rate: 0.003
                warmup_steps: 10
                num_epochs: %d
                micro_batch_size: %d
                gradient_accumulation_steps: 1
                logging_steps: 10
                seed: 1
                output_dir: %s
                """.formatted(TinyModel.UNTRAINED, size.pretrainEpochs(), MICRO_BATCH, PRETRAIN_RUN));
    }

    static RecipeConfig lora(Path dir, DemoSize size) throws JtuneException {
        return write(dir.resolve(LORA), """
                # jtune demo, step 6: LoRA fine-tuning of the base model on the labelled tickets
                base_model: %s/model
                datasets:
                  - path: data/train.jsonl
                    type: chat
                validation_path: data/validation.jsonl
                sequence_len: 128
                adapter: lora
                lora_r: 16
                lora_alpha: 32
                lora_dropout: 0.0
                lora_target_modules: all-linear
                trainable_token_indices: [eos]
                learning_rate: 0.004
                warmup_steps: 10
                num_epochs: %d
                micro_batch_size: %d
                gradient_accumulation_steps: 1
                eval_steps: %d
                eval_accuracy: true
                logging_steps: 10
                seed: 42
                output_dir: %s
                """.formatted(PRETRAIN_RUN, size.loraEpochs(), MICRO_BATCH, evalEvery(size), LORA_RUN));
    }

    /** Validation (with generation, the slow part) three times per run: after a third, two thirds and all of the steps. */
    static int evalEvery(DemoSize size) {
        int steps = (size.train() + MICRO_BATCH - 1) / MICRO_BATCH * size.loraEpochs();
        return Math.max(1, (steps + 2) / 3);
    }

    private static RecipeConfig write(Path file, String yaml) throws JtuneException {
        AtomicFile.writeString(file, yaml);
        return RecipeReader.read(file);
    }
}
