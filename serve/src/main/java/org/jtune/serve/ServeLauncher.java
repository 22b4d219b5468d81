package org.jtune.serve;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.gguf.GgufModels;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.kv.KvCacheType;
import org.jtune.tensor.DType;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.text.ChatFormat;
import org.jtune.serve.text.PromptCodec;

/**
 * Puts a server together from a {@link ServeConfig}: models and adapters, the engine, the tokenizer
 * and each served name's chat format (template and system message, as `jtune generate --chat`
 * resolves them for that model and adapter and the same flags), the request log, and the HTTP server. What `jtune serve` runs; tests and embedders
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
        Map<String, ChatFormat> formats = formats(dir, config.baseName(), config.adapters(), config.chatTemplate(), config.systemMessage());
        ServedModels models = ServedModels.load(dir, config.baseName(), config.adapters());
        BatchingEngine engine = BatchingEngine.start(models, engineOptions(config, models));
        RequestLog log = null;
        try {
            log = RequestLog.open(config.logDb() == null ? RequestLog.DEFAULT_URL : config.logDb());
            PromptCodec codec = PromptCodec.perName(tokenizer, formats, models.model().config());
            ServerOptions options = new ServerOptions(config.host(), config.port(), config.apiKey(), config.maxBodyBytes(), null,
                    fingerprint(dir, config), config.reasoning());
            return OpenAiServer.start(engine, codec, log, options);
        } catch (JtuneException | RuntimeException e) {
            engine.close();
            if (log != null) log.close();
            throw e;
        }
    }

    /** The engine's options for these models: an automatic KV budget is sized now, from the model and the heap still free. */
    static BatchingEngine.Options engineOptions(ServeConfig config, ServedModels models) {
        DType kv = KvCacheType.orAuto(config.kvCacheType(), models.model().config(), null);
        long budget = config.kvBudgetBytes();
        if (budget == ServeConfig.KV_BUDGET_AUTO) {
            Runtime rt = Runtime.getRuntime();
            budget = KvBlockPool.autoBudget(models.model().config(), config.maxBatch(), BatchingEngine.Options.KV_BLOCK_TOKENS,
                    rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()), kv);
        }
        return new BatchingEngine.Options(config.maxBatch(), config.maxQueue(), config.maxStepTokens(), budget, kv, config.promptLookup());
    }

    /**
     * The chat format of every served name, resolved once: the base model's under {@code baseName}, each
     * adapter's under its own name (its template and trained system message win over the model's; see
     * {@link ChatFormat}), unless --chat-template or --system ({@code systemMessage}, "" for none) says
     * otherwise for all. A --chat-template that cannot be resolved names the adapter it was resolved for.
     */
    static Map<String, ChatFormat> formats(Path modelDir, String baseName, Map<String, Path> adapters, String chatTemplate,
                                           String systemMessage) throws JtuneException {
        Map<String, ChatFormat> formats = new LinkedHashMap<>();
        formats.put(baseName, ChatFormat.resolve(modelDir, null, chatTemplate, systemMessage));
        for (var e : adapters.entrySet()) {
            try {
                formats.put(e.getKey(), ChatFormat.resolve(modelDir, e.getValue(), chatTemplate, systemMessage));
            } catch (JtuneException ex) {
                throw new JtuneException("adapter " + e.getKey() + " (" + e.getValue() + "): " + ex.getMessage(), ex);
            }
        }
        return formats;
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
