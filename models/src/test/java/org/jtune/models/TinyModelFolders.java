package org.jtune.models;

import java.nio.file.Path;
import java.util.Map;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/** Tiny random models written as Hugging Face folders (config.json and model.safetensors; no tokenizer). */
public final class TinyModelFolders {
    private TinyModelFolders() {}

    /** A 2-layer {@link TinyModels#config} model with weights from {@code seed}; {@code edit} may change them first. */
    public static Path write(Path dir, long seed, java.util.function.Consumer<Map<String, Tensor>> edit) throws Exception {
        LlamaConfig c = TinyModels.config(2);
        Map<String, Tensor> w = new java.util.LinkedHashMap<>(Architectures.randomWeights(c, new Rng(seed), 0.3f));
        edit.accept(w);
        java.nio.file.Files.createDirectories(dir);
        c.write(dir.resolve("config.json"));
        SafetensorsWriter.defaults().withNonFiniteAllowed().writeModel(dir, w);
        return dir;
    }

    public static Path write(Path dir, long seed) throws Exception {
        return write(dir, seed, w -> {});
    }
}
