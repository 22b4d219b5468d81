package org.jtune.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
import org.jtune.models.CausalLM;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.ModelExport;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.LoraMerge;
import org.jtune.models.lora.PeftFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `jtune merge`: folds a LoRA adapter into the base weights and writes a complete Hugging Face folder. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a PEFT LoRA adapter into its base model (W + scale·B·A computed in F32, stored in the base dtype; "
                + "trainable token rows written into embed_tokens) and write a Hugging Face folder: sharded safetensors with "
                + "index, config.json, tokenizer and generation files, with the chat template and system message the adapter was "
                + "trained with in tokenizer_config.json. A QLoRA adapter (trained by adapter: qlora, which records it in the adapter "
                + "folder) is merged into the dequantized NF4 base it was trained against, in F32 (merging into 4-bit weights "
                + "would lose quality); merge_report.json and stderr give the measured difference between the merged model and "
                + "NF4 base + adapter on a few prompts (max |logit diff|, greedy token agreement). The output folder is written whole beside the target and "
                + "switched in at the end (a kill leaves the old folder or the new one); --out may not be --model or --adapter.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Base model folder (Hugging Face layout).")
    Path model;

    @Option(names = "--adapter", required = true, description = "PEFT adapter folder (adapter_config.json, adapter_model.safetensors).")
    Path adapter;

    @Option(names = "--out", required = true, description = "Output folder for the merged model.")
    Path out;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template written into the merged tokenizer_config.json (default: the adapter's, else the base's own; "
                    + "a built-in one: chatml, llama2, llama3, mistral, or a Jinja file).")
    String chatTemplate;

    @Option(names = "--system-message", paramLabel = "TEXT",
            description = "System message recorded for the merged model (default: the one the adapter was trained with, if any).")
    String systemMessage;

    @Option(names = "--max-shard-bytes", defaultValue = "2000000000", description = "Largest safetensors shard (default ${DEFAULT-VALUE}).")
    long maxShardBytes;

    @Option(names = "--allow-base-mismatch", description = "Merge even when the adapter was trained on another base model than --model.")
    boolean allowBaseMismatch;

    /** Prompts on which a QLoRA merge is compared with base + adapter. */
    private static final java.util.List<String> MERGE_CHECK_PROMPTS = java.util.List.of("Once upon a time", "I lost my card, what should I do?",
            "The weather today");

    @Override
    public Integer call() {
        try {
            if (maxShardBytes < 1) throw new JtuneException("--max-shard-bytes must be positive, got " + maxShardBytes);
            OverwriteGuard.refuse("--out", out, "--model", model);
            OverwriteGuard.refuse("--out", out, "--adapter", adapter);
            if (!java.nio.file.Files.isDirectory(model)) throw new JtuneException("--model " + model + ": no such model folder");
            if (!java.nio.file.Files.isDirectory(adapter)) throw new JtuneException("--adapter " + adapter + ": no such adapter folder");
            StagedFolder.refuseForeign(out, "model", "config.json", "model.safetensors", "model.safetensors.index.json");
        } catch (JtuneException e) {
            System.err.println("jtune merge: " + e.getMessage());
            return 2;
        }
        Boolean qlora; // the adapter was trained on its base quantized to NF4 (double quantization or not)
        try {
            qlora = org.jtune.models.nf4.QloraBase.recorded(adapter);
        } catch (JtuneException e) {
            System.err.println("jtune merge: " + e.getMessage());
            return 2;
        }
        try (CausalLM m = Architectures.load(model); CausalLM reference = qlora == null ? null : Architectures.load(model)) {
            if (qlora != null) org.jtune.models.nf4.Nf4Checkpoints.quantize(m.weights(), qlora); // the base it was trained on
            LoraConfig config = PeftFormat.load(adapter, m, org.jtune.models.lora.Adapters.DEFAULT, allowBaseMismatch);
            if (qlora != null) {
                org.jtune.models.nf4.Nf4Checkpoints.quantize(reference.weights(), qlora);
                PeftFormat.load(adapter, reference, Adapters.DEFAULT, allowBaseMismatch);
                org.jtune.models.nf4.QloraBase.dequantize(m.weights()); // merged into the dequantized NF4 base, in F32
            }
            LoraMerge.mergeInto(m, Adapters.DEFAULT);
            // the prompt format the adapter was trained in (or the flags') goes with the merged weights, in the same switch
            StagedFolder.Extra prompt = StagedFolder.Extra.NONE;
            if (chatTemplate != null || systemMessage != null || PromptFormat.hasTemplate(adapter)
                    || PromptFormat.recordedSystemMessage(adapter) != null) {
                ChatTemplate template = ChatTemplate.resolve(model, adapter, chatTemplate, "--chat-template");
                String system = PromptFormat.systemMessage(model, adapter, systemMessage);
                prompt = staged -> PromptFormat.write(staged, staged, template, system);
            }
            if (qlora != null) {
                org.jtune.models.tokenizer.Tokenizer tok = org.jtune.models.tokenizer.Tokenizer.load(model);
                java.util.List<int[]> prompts = new java.util.ArrayList<>();
                for (String text : MERGE_CHECK_PROMPTS) prompts.add(tok.encode(text, true));
                org.jtune.models.lora.MergeCheck check = org.jtune.models.lora.MergeCheck.of(m, reference, prompts, 16);
                System.err.println("QLoRA adapter merged into the dequantized NF4 base (F32); " + check.summary());
                StagedFolder.Extra withPrompt = prompt;
                prompt = staged -> {
                    withPrompt.writeInto(staged);
                    org.jtune.io.AtomicFile.writeString(staged.resolve("merge_report.json"), check.json() + "\n");
                };
            }
            ModelExport.save(m, model, out, maxShardBytes, prompt);
            System.err.printf("merged %s r=%d (scale %.4g) on %s%s into %s (dtype %s)%n", config.useDora() ? "DoRA" : "LoRA", config.rank(), config.scale(),
                    String.join(", ", config.targetModules()),
                    config.trainableTokenIndices().isEmpty() ? "" : " and token rows " + config.trainableTokenIndices(),
                    out, m.config().torchDtype());
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune merge: " + e.getMessage());
            return 1;
        } catch (Exception | Error e) {
            return CliErrors.report("jtune merge", e, 1);
        }
    }
}
