package org.jtune.train.checkpoint;

import java.util.Map;
import java.util.TreeMap;
import org.jtune.tensor.Tensor;
import org.jtune.train.optim.OptimizerState;

/**
 * The content of one checkpoint: the trainer state, the optimizer state, the trained weights
 * under {@code weightsName} ("adapter_model" for LoRA, "model" for full fine-tuning) and small
 * extra text files (adapter_config.json, the recipe copy), by file name.
 */
public record Checkpoint(TrainerState state, OptimizerState optimizer, String weightsName, Map<String, Tensor> weights,
                         Map<String, String> extraFiles) {
    public Checkpoint {
        if (!weightsName.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("weights name must be a plain word, got " + weightsName);
        weights = java.util.Collections.unmodifiableMap(new TreeMap<>(weights));
        extraFiles = java.util.Collections.unmodifiableMap(new TreeMap<>(extraFiles));
        for (String name : extraFiles.keySet()) {
            if (CheckpointStore.RESERVED.contains(name) || name.startsWith(weightsName + ".") || name.startsWith("optimizer.")) {
                throw new IllegalArgumentException("extra file " + name + " would overwrite a checkpoint file");
            }
        }
    }
}
