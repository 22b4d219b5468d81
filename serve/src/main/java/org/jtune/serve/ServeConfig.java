package org.jtune.serve;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.models.kv.KvCacheType;
import org.jtune.serve.http.ServerOptions;
import org.jtune.tensor.DType;

/**
 * Everything `jtune serve` is told: what to serve and how to listen. Defaults are those of the CLI.
 *
 * @param modelDir       the base model folder (Hugging Face layout); null when serving from a registry
 * @param servedName     the "model" name of the base; null: the folder's name (the registry name with a registry)
 * @param adapters       adapter name → PEFT folder, each served under its name
 * @param chatTemplate   for every served name; null: each adapter's own, else the model's; else a built-in name (chatml,
 *                       llama2, llama3, mistral) or a Jinja file
 * @param logDb          JDBC URL of the request log; null: SQLite jtune-requests.db in the working folder
 * @param maxBatch       sequences generated together at most (continuous batching)
 * @param maxStepTokens  tokens one engine step processes at most (decode tokens plus prompt chunks)
 * @param kvBudgetBytes  KV cache memory for all sequences, in blocks with shared prefixes ({@link #KV_BUDGET_AUTO}: sized
 *                       from the model and the free heap when the engine starts; 0: a growing buffer per sequence, no bound)
 * @param registry       serve the production version of a registered model instead of {@code modelDir}, or null
 * @param systemMessage  for every served name, the system message put first into a chat request that has none, in place of the
 *                       one training recorded (`jtune serve --system`); "": none, even where one was recorded; null: each name's
 *                       recorded one, if any
 * @param kvCacheType    the element type of the KV cache: F32, or BF16 or F16 at half the memory; null: the model's own
 *                       ({@code KvCacheType.auto}: BF16 for a 16-bit checkpoint, else F32)
 * @param promptLookup   greedy requests (temperature 0) draft up to this many tokens per step by prompt lookup (0: none)
 * @param reasoning      chat answers of a model with &lt;think&gt; tokens carry its thinking as "reasoning" apart from the content
 *                       (`--reasoning-format auto`, the default); false: the raw text as content (`none`)
 */
public record ServeConfig(Path modelDir, String servedName, Map<String, Path> adapters, String chatTemplate, String host, int port,
                          String apiKey, int maxBatch, int maxQueue, long maxBodyBytes, String logDb, int maxStepTokens, long kvBudgetBytes,
                          RegistrySource registry, String systemMessage, DType kvCacheType, int promptLookup, boolean reasoning) {
    public static final int DEFAULT_MAX_BATCH = 16;
    public static final int DEFAULT_MAX_QUEUE = 256;
    public static final int DEFAULT_MAX_STEP_TOKENS = 2048;
    /** kvBudgetBytes: room for maxBatch whole contexts, within 40 % of the heap free once the model is loaded ({@code KvBlockPool.autoBudget}). */
    public static final long KV_BUDGET_AUTO = -1;

    /**
     * Where `jtune serve --registry DB --name NAME` finds what to serve.
     *
     * @param registry  the registry database (a file path or JDBC URL, as `jtune registry` takes it)
     * @param name      the registered model name; its production version is served
     * @param artifacts the registry's artifact folder (null: beside an SQLite file)
     * @param poll      how often the registry is checked for a promotion or rollback
     * @param drain     how long the version switched away from may take to finish its requests
     */
    public record RegistrySource(String registry, String name, Path artifacts, Duration poll, Duration drain) {
        public RegistrySource {
            if (registry == null || name == null) throw new IllegalArgumentException("a registry source needs the database and the name");
            if (poll == null) poll = Duration.ofSeconds(5);
            if (drain == null) drain = Duration.ofMinutes(10);
        }
    }

    public ServeConfig {
        adapters = adapters == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
        if (host == null) host = ServerOptions.DEFAULT_HOST;
        if ((modelDir == null) == (registry == null)) throw new IllegalArgumentException("give either a model folder or a registry source");
        if (kvBudgetBytes < KV_BUDGET_AUTO) throw new IllegalArgumentException("KV budget must be bytes >= 0 or KV_BUDGET_AUTO, got " + kvBudgetBytes);
        if (kvCacheType != null) KvCacheType.check(kvCacheType);
        if (promptLookup < 0) throw new IllegalArgumentException("prompt lookup must be >= 0, got " + promptLookup);
    }

    /** A model folder served with each name's recorded system message (no --system). */
    public ServeConfig(Path modelDir, String servedName, Map<String, Path> adapters, String chatTemplate, String host, int port,
                       String apiKey, int maxBatch, int maxQueue, long maxBodyBytes, String logDb, int maxStepTokens, long kvBudgetBytes) {
        this(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb, maxStepTokens,
                kvBudgetBytes, null, null, null, 0, true);
    }

    /** As before --system existed: each name's recorded system message. */
    public ServeConfig(Path modelDir, String servedName, Map<String, Path> adapters, String chatTemplate, String host, int port,
                       String apiKey, int maxBatch, int maxQueue, long maxBodyBytes, String logDb, int maxStepTokens, long kvBudgetBytes,
                       RegistrySource registry) {
        this(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb, maxStepTokens,
                kvBudgetBytes, registry, null, null, 0, true);
    }

    public static ServeConfig of(Path modelDir) {
        return new ServeConfig(modelDir, null, Map.of(), null, ServerOptions.DEFAULT_HOST, ServerOptions.DEFAULT_PORT, null,
                DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE, ServerOptions.DEFAULT_MAX_BODY_BYTES, null, DEFAULT_MAX_STEP_TOKENS, KV_BUDGET_AUTO);
    }

    /** The same settings serving {@code source}'s production version instead of a model folder. */
    public ServeConfig withRegistry(RegistrySource source) {
        return new ServeConfig(null, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb,
                maxStepTokens, kvBudgetBytes, source, systemMessage, kvCacheType, promptLookup, reasoning);
    }

    /** The same settings with {@code message} as every name's system message (see {@link #systemMessage}; null: the recorded ones). */
    public ServeConfig withSystemMessage(String message) {
        return new ServeConfig(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb,
                maxStepTokens, kvBudgetBytes, registry, message, kvCacheType, promptLookup, reasoning);
    }

    /** The same settings with KV caches of {@code type} (F32, BF16 or F16; null: the model's own). */
    public ServeConfig withKvCacheType(DType type) {
        return new ServeConfig(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb,
                maxStepTokens, kvBudgetBytes, registry, systemMessage, type, promptLookup, reasoning);
    }

    /** The same settings with greedy requests drafting up to {@code n} tokens per step by prompt lookup (0: none). */
    public ServeConfig withPromptLookup(int n) {
        return new ServeConfig(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb,
                maxStepTokens, kvBudgetBytes, registry, systemMessage, kvCacheType, n, reasoning);
    }

    /** The same settings with thinking split from the answer ({@code true}, {@link #reasoning}) or left in it. */
    public ServeConfig withReasoning(boolean split) {
        return new ServeConfig(modelDir, servedName, adapters, chatTemplate, host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, logDb,
                maxStepTokens, kvBudgetBytes, registry, systemMessage, kvCacheType, promptLookup, split);
    }

    /** The served name of the base model. */
    public String baseName() {
        if (servedName != null) return servedName;
        if (registry != null) return registry.name();
        Path name = modelDir.toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }
}
