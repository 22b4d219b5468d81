package org.jtune.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.StopIds;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model: which model and adapter, the chat template, and sampling. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT LoRA adapter folder to apply.")
    Path adapter;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template: by default the adapter's (the one it was trained with), else the model's own; "
                    + "a built-in one (chatml, llama2, llama3, mistral) or a Jinja file.")
    String chatTemplate;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default); otherwise sampling temperature.")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the k most likely tokens (0 = all).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass (1 = off).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens below min-p × the top probability (0 = off).")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "CTRL-style repetition penalty (1 = off).")
    float repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed.")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the output contains this text (repeatable).")
    List<String> stop = new ArrayList<>();

    CausalLM load() throws JtuneException {
        CausalLM m = Architectures.load(model);
        try {
            if (adapter != null) PeftFormat.load(adapter, m);
        } catch (JtuneException | RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    Tokenizer tokenizer() throws JtuneException {
        return Tokenizer.load(model);
    }

    ChatTemplate template() throws JtuneException {
        return ModelRun.template(model, adapter, chatTemplate);
    }

    /** The system message: {@code flag} when given, else the one the adapter (or model) was trained with, else null. */
    String systemMessage(String flag) throws JtuneException {
        return org.jtune.models.chat.PromptFormat.systemMessage(model, adapter, flag);
    }

    /** Sampling settings; generation stops at the model's and the tokenizer's EOS ids. */
    SamplingConfig sampling(CausalLM m, Tokenizer t) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, StopIds.of(m.config(), t), stop);
    }
}
