package org.jtune.models.io;

import org.jtune.io.AtomicFile;
import org.jtune.io.FolderLock;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
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
 * the folder the model came from. The folder is written whole under its {@link FolderLock}: staged
 * beside the target and switched in at the end ({@link StagedFolder}), so a crash or kill leaves the
 * previous complete folder or the new one, never new shards beside an old index. It refuses to
 * write over the source folder, and over a non-empty folder that is not a model folder.
 */
public final class ModelExport {
    /** Tokenizer and generation files carried over from the source folder when present. */
    public static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "tokenizer.model", "chat_template.jinja", "chat_template.json");

    private ModelExport() {}

    public static void save(CausalLM model, Path sourceDir, Path outDir, long maxShardBytes) throws JtuneException {
        save(model, sourceDir, outDir, maxShardBytes, StagedFolder.Extra.NONE);
    }

    /** As {@link #save(CausalLM, Path, Path, long)}, with {@code extra} files (a prompt format) written into the staged folder. */
    public static void save(CausalLM model, Path sourceDir, Path outDir, long maxShardBytes, StagedFolder.Extra extra) throws JtuneException {
        OverwriteGuard.refuse("the output folder", outDir, "the model folder", sourceDir);
        try (FolderLock lock = FolderLock.acquire(outDir, "writing a model")) {
            StagedFolder.refuseForeign(outDir, "model", "config.json", "model.safetensors", ShardIndex.FILE_NAME);
            try (StagedFolder staged = StagedFolder.begin(outDir)) {
                write(model, sourceDir, staged.path(), maxShardBytes);
                extra.writeInto(staged.path());
                staged.commit();
            }
        }
    }

    /**
     * Writes prepared tensors (a quantized checkpoint's U8 rows and the rest) with safetensors {@code metadata},
     * config.json with {@code quantizationConfig} added as "quantization_config", and the side files, into a staged
     * {@code outDir} (whole or not at all).
     */
    public static void saveTensors(CausalLM model, Map<String, Tensor> tensors, Map<String, String> metadata, Path sourceDir, Path outDir,
                                   Map<String, Object> quantizationConfig) throws JtuneException {
        OverwriteGuard.refuse("the output folder", outDir, "the model folder", sourceDir);
        try (FolderLock lock = FolderLock.acquire(outDir, "writing a model")) {
            StagedFolder.refuseForeign(outDir, "model", "config.json", "model.safetensors", ShardIndex.FILE_NAME);
            try (StagedFolder staged = StagedFolder.begin(outDir)) {
                Path dir = staged.path();
                SafetensorsWriter.defaults().withMetadata(metadata).withMaxShardBytes(SafetensorsWriter.DEFAULT_MAX_SHARD_BYTES).writeModel(dir, tensors);
                model.config().write(dir.resolve("config.json"));
                try {
                    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
                    var root = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(dir.resolve("config.json").toFile());
                    root.set("quantization_config", mapper.valueToTree(quantizationConfig));
                    AtomicFile.writeString(dir.resolve("config.json"), mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
                } catch (IOException e) {
                    throw new JtuneException(dir.resolve("config.json") + ": cannot add quantization_config: " + org.jtune.io.IoErrors.reason(e), e);
                }
                // an adapter trained on the source loads on its quantized copy, as it does on the source quantized on load
                AtomicFile.writeString(dir.resolve(ModelFingerprint.QUANTIZED_FROM),
                        "{\"base_model_fingerprint\": \"" + ModelFingerprint.of(sourceDir) + "\"}\n");
                copySideFiles(sourceDir, dir);
                staged.commit();
            }
        }
    }

    private static void copySideFiles(Path sourceDir, Path outDir) throws JtuneException {
        for (String name : SIDE_FILES) {
            Path src = sourceDir.resolve(name);
            if (!Files.isRegularFile(src)) continue;
            try {
                AtomicFile.copy(src, outDir.resolve(name));
            } catch (IOException e) {
                throw new JtuneException("cannot copy " + src + " to " + outDir + ": " + org.jtune.io.IoErrors.reason(e), e);
            }
        }
    }

    private static void write(CausalLM model, Path sourceDir, Path outDir, long maxShardBytes) throws JtuneException {
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
                throw new JtuneException("cannot copy " + src + " to " + outDir + ": " + org.jtune.io.IoErrors.reason(e), e);
            }
        }
    }
}
