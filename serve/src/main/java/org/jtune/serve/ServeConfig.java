package org.jtune.serve;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.serve.http.ServerOptions;

/**
 * Everything `jtune serve` is told: what to serve and how to listen. Defaults are those of the CLI.
 *
 * @param modelDir       the base model folder (Hugging Face layout)
 * @param servedName     the "model" name of the base; null: the folder's name
 * @param adapters       adapter name → PEFT folder, each served under its name
 * @param chatTemplate   null: the model's own; else a built-in name (chatml, llama2, llama3, mistral) or a Jinja file
 * @param logDb          JDBC URL of the request log; null: SQLite jtune-requests.db in the working folder
 * @param maxBatch       sequences generated together at most (continuous batching)
 * @param maxStepTokens  tokens one engine step processes at most (decode tokens plus prompt chunks)
 * @param kvBudgetBytes  KV cache memory for all sequences, in blocks with shared prefixes (0: a growing buffer per sequence)
 */
public record ServeConfig(Path modelDir, String servedName, Map<String, Path> adapters, String chatTemplate, String host, int port,
                          String apiKey, int maxBatch, int maxQueue, long maxBodyBytes, String logDb, int maxStepTokens, long kvBudgetBytes) {
    public static final int DEFAULT_MAX_BATCH = 16;
    public static final int DEFAULT_MAX_QUEUE = 256;
    public static final int DEFAULT_MAX_STEP_TOKENS = 2048;

    public ServeConfig {
        adapters = adapters == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
        if (host == null) host = ServerOptions.DEFAULT_HOST;
    }

    public static ServeConfig of(Path modelDir) {
        return new ServeConfig(modelDir, null, Map.of(), null, ServerOptions.DEFAULT_HOST, ServerOptions.DEFAULT_PORT, null,
                DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE, ServerOptions.DEFAULT_MAX_BODY_BYTES, null, DEFAULT_MAX_STEP_TOKENS, 0);
    }

    /** The served name of the base model. */
    public String baseName() {
        if (servedName != null) return servedName;
        Path name = modelDir.toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }
}
