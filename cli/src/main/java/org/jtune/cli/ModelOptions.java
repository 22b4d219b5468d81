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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model: which model and adapter, the chat template, and sampling. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Model folder (Hugging Face layout, or one written by jtune quantize), or a GGUF file (llama, granite, qwen2, qwen3, qwen3moe or gemma3 architecture; "
                    + "weights in their stored types, tokenizer and chat template from its metadata).")
    Path model;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the projection matrices on load: q8_0, q4_0 or q4_k (ggml's formats), or nf4 (QLoRA's NF4, to run a QLoRA adapter on the base it was trained on); no full-precision copy is kept.")
    String quantize;

    @Mixin
    MlockOption mlock;

    @Mixin
    KvTypeOption kvType;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT LoRA adapter folder to apply.")
    Path adapter;

    @Option(names = "--device", paramLabel = "cpu|opencl[:N]|cuda[:N]", defaultValue = "cpu",
            description = "Where the weights are kept and the model runs (default ${DEFAULT-VALUE}); they are copied there once.")
    String device;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template: by default the adapter's (the one it was trained with), else the model's own; "
                    + "a built-in one (chatml, llama2, llama3, mistral) or a Jinja file.")
    String chatTemplate;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Mixin
    PromptLookupOption promptLookup;

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

    @Option(names = "--allow-base-mismatch",
            description = "Load --adapter even when it was trained on another base model than --model (it records its base's fingerprint).")
    boolean allowBaseMismatch;

    /** Checks the sampling flags, and --max-new-tokens against the model's context (config.json), before anything is loaded. */
    void validate() throws JtuneException {
        mlock.apply();
        kvType.type(null);
        if (quantize != null) org.jtune.models.weights.QuantizeOnLoad.codec(quantize.toLowerCase(java.util.Locale.ROOT));
        model = org.jtune.models.gguf.GgufModels.asFolder("--model", model);
        if (maxNewTokens < 1) throw new JtuneException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        promptLookup.check();
        if (!(temperature >= 0)) throw new JtuneException("--temperature must be 0 (greedy) or more, got " + temperature);
        if (topK < 0) throw new JtuneException("--top-k must be 0 (off) or more, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new JtuneException("--top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new JtuneException("--min-p must be in [0, 1), got " + minP);
        if (!(repetitionPenalty > 0)) throw new JtuneException("--repetition-penalty must be above 0, got " + repetitionPenalty);
        if (!java.nio.file.Files.isDirectory(model)) throw new JtuneException("--model " + model + ": no such model folder");
        if (adapter != null && !java.nio.file.Files.isDirectory(adapter)) throw new JtuneException("--adapter " + adapter + ": no such adapter folder");
        checkAgainstContext(maxNewTokens, Architectures.readConfig(model).maxPositionEmbeddings());
        noteQloraBase("jtune", adapter, quantize == null ? null : quantize.toLowerCase(java.util.Locale.ROOT));
    }

    /** One stderr line when a QLoRA adapter (trained on its base in NF4) runs on another base than NF4: it runs, but not as trained. */
    static void noteQloraBase(String command, Path adapter, String quantize) throws JtuneException {
        if (adapter == null || "nf4".equals(quantize) || org.jtune.models.nf4.QloraBase.recorded(adapter) == null) return;
        System.err.println(command + ": note: " + adapter + " was trained on its base quantized to NF4 (" + org.jtune.models.nf4.QloraBase.FILE
                + "); add --quantize nf4 to run it as trained (now: the base " + (quantize == null ? "as stored" : "in " + quantize) + ")");
    }

    /** A --max-new-tokens beyond the whole context can never be generated (and once ran the JVM out of memory). */
    static void checkAgainstContext(int maxNewTokens, int context) throws JtuneException {
        if (maxNewTokens > context) {
            throw new JtuneException("--max-new-tokens " + maxNewTokens + " is more than the model's whole context of " + context
                    + " tokens (max_position_embeddings); prompt and answer together must fit in it: give at most " + context);
        }
    }

    CausalLM load() throws JtuneException {
        CausalLM m = ModelRun.load(model, quantize == null ? null : quantize.toLowerCase(java.util.Locale.ROOT), device, kvType);
        try {
            if (adapter != null) PeftFormat.load(adapter, m, org.jtune.models.lora.Adapters.DEFAULT, allowBaseMismatch);
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
        return promptLookup.apply(new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens,
                StopIds.of(m.config(), t), stop));
    }
}
