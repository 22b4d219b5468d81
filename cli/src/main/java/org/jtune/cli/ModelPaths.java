package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.jtune.models.gguf.GgufModels;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;

/**
 * What a command's --model names, as the model folder the rest of the command reads: a folder as is; a GGUF file
 * is read (a damaged or hostile file fails here with the reader's named error) and described as a folder
 * ({@link GgufModels#describe}: config, tokenizer and chat template from its metadata, its tensors mapped from the file).
 */
final class ModelPaths {
    private ModelPaths() {}

    static Path resolve(String option, Path model) throws JtuneException {
        if (model == null || !GgufModels.isGguf(model)) return model;
        if (!Files.isRegularFile(model)) throw new JtuneException(option + " " + model + ": no such GGUF file");
        try (GgufFile f = GgufReader.open(model)) {
            GgufModels.config(f); // a file of another architecture is refused before anything else is written
            return GgufModels.describe(model, f);
        } catch (JtuneException e) {
            throw new JtuneException(option + " " + model + ": " + e.getMessage().replace(model + ": ", ""), e);
        }
    }
}
