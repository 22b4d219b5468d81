package org.jtune.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
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
                + "trained with in tokenizer_config.json. A quantized base would be merged into its dequantized "
                + "weights, the ones the adapter was trained against.")
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

    @Override
    public Integer call() {
        try (CausalLM m = Architectures.load(model)) {
            LoraConfig config = PeftFormat.load(adapter, m);
            LoraMerge.mergeInto(m, Adapters.DEFAULT);
            ModelExport.save(m, model, out, maxShardBytes);
            // the prompt format the adapter was trained in (or the flags') goes with the merged weights
            if (chatTemplate != null || systemMessage != null || PromptFormat.hasTemplate(adapter)
                    || PromptFormat.recordedSystemMessage(adapter) != null) {
                ChatTemplate template = ChatTemplate.resolve(model, adapter, chatTemplate, "--chat-template");
                PromptFormat.write(out, out, template, PromptFormat.systemMessage(model, adapter, systemMessage));
            }
            System.err.printf("merged LoRA r=%d (scale %.4g) on %s%s into %s (dtype %s)%n", config.rank(), config.scale(),
                    String.join(", ", config.targetModules()),
                    config.trainableTokenIndices().isEmpty() ? "" : " and token rows " + config.trainableTokenIndices(),
                    out, m.config().torchDtype());
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune merge: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("jtune merge: " + e);
            return 1;
        }
    }
}
