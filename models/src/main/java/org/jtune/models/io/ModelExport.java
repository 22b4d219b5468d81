package org.jtune.models.io;

import org.jtune.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;

import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * Writes a model as a complete Hugging Face folder: config.json, the weights as (sharded, with an
 * index) safetensors in the config's torch_dtype, and the tokenizer and generation files copied from
 * the folder the model came from. Each file is written to a temporary name and renamed.
 */
public final class ModelExport {
    /** Tokenizer and generation files carried over from the source folder when present. */
    public static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "tokenizer.model", "chat_template.jinja", "chat_template.json");

    private ModelExport() {}

    public static void save(CausalLM model, Path sourceDir, Path outDir, long maxShardBytes) throws JtuneException {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new JtuneException("cannot create " + outDir + ": " + e.getMessage(), e);
        }
        DType dtype = switch (String.valueOf(model.config().torchDtype())) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> DType.F32;
        };
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Variable> e : model.weights().named().entrySet()) tensors.put(e.getKey(), e.getValue().value());
        SafetensorsWriter.defaults().withFloatDType(dtype).withMaxShardBytes(maxShardBytes).writeModel(outDir, tensors);
        model.config().write(outDir.resolve("config.json"));
        for (String name : SIDE_FILES) {
            Path src = sourceDir.resolve(name);
            if (!Files.isRegularFile(src)) continue;
            try {
                AtomicFile.copy(src, outDir.resolve(name));
            } catch (IOException e) {
                throw new JtuneException("cannot copy " + src + " to " + outDir + ": " + e.getMessage(), e);
            }
        }
    }
}
