package org.jtune.serve;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.gguf.GgufModels;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.text.PromptCodec;

/**
 * Puts a server together from a {@link ServeConfig}: models and adapters, the engine, tokenizer and
 * chat template, the request log, and the HTTP server. What `jtune serve` runs; tests and embedders
 * call it the same way. The model is a folder or a GGUF file (described as a folder, {@link GgufModels#asFolder}). Bad input (a missing folder, a broken adapter, an unreachable database) is a
 * JtuneException that names it, and nothing is left running.
 */
public final class ServeLauncher {
    private ServeLauncher() {}

    public static OpenAiServer start(ServeConfig config) throws JtuneException {
        if (config.registry() != null) return RegistryServing.start(config);
        Path dir = GgufModels.asFolder("model", config.modelDir());
        if (!Files.isDirectory(dir)) throw new JtuneException(dir + ": no such model folder");
        for (var e : config.adapters().entrySet()) {
            if (!Files.isDirectory(e.getValue())) throw new JtuneException("adapter " + e.getKey() + ": " + e.getValue() + " is not a folder");
        }
        Tokenizer tokenizer = Tokenizer.load(dir);
        ChatTemplate template = template(dir, config.chatTemplate());
        ServedModels models = ServedModels.load(dir, config.baseName(), config.adapters());
        BatchingEngine engine = BatchingEngine.start(models, engineOptions(config, models));
        RequestLog log = null;
        try {
            log = RequestLog.open(config.logDb() == null ? RequestLog.DEFAULT_URL : config.logDb());
            PromptCodec codec = PromptCodec.of(tokenizer, template, models.model().config());
            ServerOptions options = new ServerOptions(config.host(), config.port(), config.apiKey(), config.maxBodyBytes(), null,
                    fingerprint(dir, config));
            return OpenAiServer.start(engine, codec, log, options);
        } catch (JtuneException | RuntimeException e) {
            engine.close();
            if (log != null) log.close();
            throw e;
        }
    }

    /** The engine's options for these models: an automatic KV budget is sized now, from the model and the heap still free. */
    static BatchingEngine.Options engineOptions(ServeConfig config, ServedModels models) {
        long budget = config.kvBudgetBytes();
        if (budget == ServeConfig.KV_BUDGET_AUTO) {
            Runtime rt = Runtime.getRuntime();
            budget = KvBlockPool.autoBudget(models.model().config(), config.maxBatch(), BatchingEngine.Options.KV_BLOCK_TOKENS,
                    rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
        }
        return new BatchingEngine.Options(config.maxBatch(), config.maxQueue(), config.maxStepTokens(), budget);
    }

    /** --chat-template NAME|FILE, else the model's own; null when there is neither (chat requests are then 400s). */
    static ChatTemplate template(Path modelDir, String name) throws JtuneException {
        if (name == null && TokenizerConfig.read(modelDir).chatTemplate() == null) return null;
        return ChatTemplate.resolve(modelDir, name, "--chat-template");
    }

    /** system_fingerprint: a hash of the model's config and the adapters served (changes when the weights served change). */
    static String fingerprint(Path modelDir, ServeConfig config) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(modelDir.resolve("config.json")));
            for (var e : config.adapters().entrySet()) {
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                Path cfg = e.getValue().resolve("adapter_config.json");
                if (Files.isRegularFile(cfg)) sha.update(Files.readAllBytes(cfg));
            }
            return "fp_" + HexFormat.of().formatHex(sha.digest()).substring(0, 10);
        } catch (Exception e) {
            return "fp_jtune";
        }
    }
}
