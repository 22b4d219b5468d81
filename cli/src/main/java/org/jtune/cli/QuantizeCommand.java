package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.QuantizedCheckpoint;
import org.jtune.models.weights.QuantizeOnLoad;
import org.jtune.models.weights.WeightQuantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `jtune quantize`: a model folder with its projections block-quantized, written as a folder every command reads back. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a model's projection matrices (q8_0, q4_0 or q4_k, ggml's reference quantizers; nf4, QLoRA's NF4 with double quantization in bitsandbytes' layout) and write a model "
                + "folder that generate, chat, eval and serve read back: safetensors with each quantized matrix as U8 rows of its "
                + "blocks (marked in the header's __metadata__), embeddings and norms as stored, config.json with a "
                + "quantization_config, and the tokenizer and chat files (see docs/QUANT.md).",
                "q4_k needs rows of whole 256-element blocks and falls back to q8_0 per matrix; a matrix whose rows are not whole "
                        + "32-element blocks keeps its stored dtype. The folder is written whole and switched in at the end."})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Option(names = "--type", required = true, paramLabel = "T", description = "q8_0, q4_0, q4_k or nf4.")
    String type;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Override
    public Integer call() {
        String t = type == null ? null : type.toLowerCase(Locale.ROOT);
        try {
            QuantizeOnLoad.codec(t);
            if (!Files.isDirectory(model)) throw new JtuneException("--model " + model + ": no such model folder");
            OverwriteGuard.refuse("--out", out, "--model", model);
            StagedFolder.refuseForeign(out, "model", "config.json", "model.safetensors", "model.safetensors.index.json");
        } catch (JtuneException e) {
            System.err.println("jtune quantize: " + e.getMessage().replace("--quantize", "--type"));
            return 2;
        }
        try (CausalLM m = Architectures.load(model)) {
            List<WeightQuantizer.Result> results = QuantizeOnLoad.apply(m, t);
            QuantizedCheckpoint.save(m, model, out, t);
            long kept = results.stream().filter(r -> r.codec() == null).count();
            String mix = results.stream().map(WeightQuantizer.Result::codec).filter(c -> c != null).distinct().sorted().toList().toString();
            System.err.printf("quantized %d of %d projections (%s)%s into %s%n", results.size() - kept, results.size(), mix,
                    kept == 0 ? "" : "; " + kept + " kept as stored (rows not whole blocks)", out);
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune quantize: " + e.getMessage());
            return 1;
        } catch (Exception | Error e) {
            return CliErrors.report("jtune quantize", e, 1);
        }
    }
}
