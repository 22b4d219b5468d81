package org.jtune.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.serve.ServeConfig;
import org.jtune.serve.ServeLauncher;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `jtune serve`: the OpenAI-compatible server; runs until SIGTERM or Ctrl-C, then drains in-flight requests and exits. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model (and LoRA adapters, each by its name) over an OpenAI-compatible HTTP API: "
                + "/v1/chat/completions, /v1/completions, /v1/models, /v1/feedback, /tokenize, /detokenize, /tokenizer_info, /health, /metrics. "
                + "Every request is logged (SQLite jtune-requests.db by default). SIGTERM drains in-flight requests, then exits."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR|FILE.gguf",
            description = "Model folder (Hugging Face layout, or one written by jtune quantize), or a GGUF file. Or --registry and --name.")
    Path model;

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the model's projection matrices on load: q8_0, q4_0, q4_k or nf4 (written once to a temporary jtune quantize folder, which is served).")
    String quantize;

    @Mixin
    MlockOption mlock;

    @Mixin
    KvTypeOption kvType;

    @Mixin
    PromptLookupOption promptLookup;

    @Option(names = "--registry", paramLabel = "DB",
            description = "Serve the production version of --name from this registry (a file path or JDBC URL, as `jtune registry` takes it), "
                    + "and switch to each version promoted or rolled back to, without dropping requests.")
    String registry;

    @Option(names = "--name", paramLabel = "NAME", description = "The registered model name to serve (with --registry).")
    String registryName;

    @Option(names = "--artifacts", paramLabel = "DIR", description = "The registry's artifact folder (required with a PostgreSQL registry).")
    Path artifacts;

    @Option(names = "--registry-poll-seconds", defaultValue = "5", paramLabel = "S",
            description = "How often the registry is checked for a promotion or rollback (default ${DEFAULT-VALUE}).")
    double registryPoll;

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "The name clients send as \"model\" for the base (default: the folder's name).")
    String servedName;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "A PEFT LoRA adapter served as model NAME (repeatable).")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template for every served name: by default each adapter's own (the one it was trained with), "
                    + "else the model's; a built-in one (chatml, llama2, llama3, mistral) or a Jinja file.")
    String chatTemplate;

    @Option(names = "--system", paramLabel = "TEXT",
            description = "System message for chat requests that carry none, for every served name (default: the one each adapter "
                    + "or model was trained with, if any; \"\" for none). A request's own system message wins.")
    String system;

    /** llama.cpp's --reasoning-format: whether a thinking model's thought is answered apart from its content. */
    enum ReasoningFormat { auto, none }

    @Option(names = "--reasoning-format", defaultValue = "auto", paramLabel = "auto|none",
            description = "auto (default): when the model has <think> and </think> tokens (Qwen3, QwQ, DeepSeek-R1 distills), chat answers "
                    + "carry its thinking as \"reasoning\" and \"reasoning_content\" (streamed as deltas of those) and the rest as content; "
                    + "none: the raw text, tags included, as content.")
    ReasoningFormat reasoningFormat;

    @Option(names = "--host", defaultValue = ServerOptions.DEFAULT_HOST, description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @ArgGroup(exclusive = true)
    KeyOptions key;

    static final class KeyOptions {
        @Option(names = "--api-key", paramLabel = "KEY", description = "Clients must send 'Authorization: Bearer KEY'.")
        String value;

        @Option(names = "--api-key-file", paramLabel = "FILE", description = "Read the API key from the first line of FILE.")
        Path file;
    }

    @Option(names = "--max-batch", defaultValue = "16", description = "Most sequences generated together, continuously batched (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-step-tokens", defaultValue = "2048",
            description = "Most tokens one engine step processes: decode tokens plus prompt chunks (default ${DEFAULT-VALUE}).")
    int maxStepTokens;

    @Option(names = "--kv-budget-bytes", paramLabel = "BYTES|auto", defaultValue = "auto",
            description = "KV cache memory for all sequences, in 16-position blocks with shared prompt prefixes, taken at start (default auto: "
                    + "room for --max-batch whole contexts, within 40%% of the heap left once the model is loaded; 0: a growing buffer per sequence, no bound). "
                    + "A request whose prompt plus max tokens exceed it is answered 400.")
    String kvBudget;

    @Option(names = "--max-queue", defaultValue = "256", description = "Most requests waiting; more are answered 429 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", defaultValue = "4194304", description = "Largest request body; larger ones are answered 413 (default ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(names = "--log-db", paramLabel = "JDBC_URL",
            description = "Request log database: jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB?user=..&password=.. (default jdbc:sqlite:jtune-requests.db).")
    String logDb;

    /** The model quantized into a temporary jtune quantize folder (removed when the JVM exits). */
    private static Path quantizedCopy(Path model, String type) throws JtuneException {
        org.jtune.models.weights.QuantizeOnLoad.codec(type);
        try {
            Path dir = java.nio.file.Files.createTempDirectory("jtune-serve-" + type + "-");
            java.nio.file.Files.delete(dir);
            try (org.jtune.models.CausalLM m = org.jtune.models.arch.Architectures.load(model, type)) {
                org.jtune.models.io.QuantizedCheckpoint.save(m, model, dir, type);
            }
            try (var files = java.nio.file.Files.list(dir)) {
                dir.toFile().deleteOnExit();
                for (Path p : files.toList()) p.toFile().deleteOnExit();
            }
            return dir;
        } catch (java.io.IOException e) {
            throw new JtuneException("--quantize " + type + ": cannot write the quantized model: " + e.getMessage(), e);
        }
    }

    @Override
    public Integer call() {
        try {
            mlock.apply();
            if (maxBatch < 1 || maxQueue < 1 || maxBodyBytes < 1 || maxStepTokens < 1) {
                throw new JtuneException("--max-batch, --max-queue, --max-step-tokens and --max-body-bytes must be >= 1");
            }
            long kvBudgetBytes = kvBudgetBytes();
            if ((model == null) == (registry == null)) { // a usage error, as picocli's for a missing required option
                System.err.println("jtune serve: give --model DIR|FILE.gguf, or --registry DB with --name NAME (jtune serve --help)");
                return 2;
            }
            if (registry != null && registryName == null) throw new JtuneException("--registry needs --name NAME (the registered model to serve)");
            if (registry == null && (registryName != null || artifacts != null)) throw new JtuneException("--name and --artifacts go with --registry");
            if (registry != null && !adapters.isEmpty()) throw new JtuneException("--adapter does not go with --registry: the registry says what is served");
            if (!(registryPoll > 0)) throw new JtuneException("--registry-poll-seconds must be > 0, got " + registryPoll);
            if (model != null && servedName == null && org.jtune.models.gguf.GgufModels.isGguf(model)) {
                servedName = model.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
            }
            if (model != null && servedName == null && quantize != null) servedName = model.toAbsolutePath().normalize().getFileName().toString();
            model = org.jtune.models.gguf.GgufModels.asFolder("--model", model);
            if (quantize != null) {
                if (registry != null) throw new JtuneException("--quantize goes with --model");
                model = quantizedCopy(model, quantize.toLowerCase(java.util.Locale.ROOT));
            }
            ServeConfig config = config(kvBudgetBytes);
            OpenAiServer server = ServeLauncher.start(config).closeOnShutdown(() -> System.err.println(
                    "jtune serve: stopped (in-flight requests finished, request log closed)"));
            List<String> names = server.engine().modelNames();
            String version = server.engine().modelVersion();
            System.err.println("jtune serve: " + (version != null ? version + " as " : "") + names.getFirst() + (names.size() > 1 ? " and adapters " + String.join(", ", names.subList(1, names.size())) : "")
                    + " on http://" + server.host() + ":" + server.port() + "/v1 (request log " + (logDb == null ? "jdbc:sqlite:jtune-requests.db" : logDb)
                    + (config.apiKey() == null ? "; no API key" : "") + "); " + kvCache(server.engine().gauges(), kvTypeName(config)) + "; SIGTERM or Ctrl-C drains and stops");
            server.join();
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune serve: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (Exception e) {
            CliErrors.report("jtune serve", e, 1);
            return 1;
        }
    }

    /** What the server is told, once the flags are checked and --model is a folder. */
    ServeConfig config(long kvBudgetBytes) throws JtuneException {
        promptLookup.check();
        ServeConfig config = new ServeConfig(registry == null ? model : Path.of("."), servedName, adapters(), chatTemplate, host, port, apiKey(),
                maxBatch, maxQueue, maxBodyBytes, logDb, maxStepTokens, kvBudgetBytes).withSystemMessage(system).withKvCacheType(kvType.type(null))
                .withPromptLookup(promptLookup.drafts).withReasoning(reasoningFormat == ReasoningFormat.auto);
        if (registry != null) {
            config = config.withRegistry(new ServeConfig.RegistrySource(registry, registryName, artifacts,
                    java.time.Duration.ofMillis(Math.round(registryPoll * 1000)), null));
        }
        return config;
    }

    /** The KV cache the engine took, for the start line. */
    private static String kvCache(org.jtune.serve.engine.EngineGauges g, String type) {
        long blocks = g.kv().totalBlocks();
        String kv = "KV cache (" + type + "): ";
        if (blocks == 0) return kv + "a growing buffer per sequence";
        return kv + blocks * g.kvBlockTokens() + " positions in " + blocks + " blocks";
    }

    /** The KV cache's type for the start line: the one given, or what auto picks for --model (a registry's versions may differ). */
    private String kvTypeName(ServeConfig config) throws JtuneException {
        org.jtune.tensor.DType type = config.kvCacheType();
        if (type == null && registry == null) type = org.jtune.models.kv.KvCacheType.auto(org.jtune.models.arch.Architectures.readConfig(model), null);
        return type == null ? "auto" : type.name().toLowerCase(java.util.Locale.ROOT);
    }

    private long kvBudgetBytes() throws JtuneException {
        if (kvBudget.equalsIgnoreCase("auto")) return ServeConfig.KV_BUDGET_AUTO;
        try {
            long bytes = Long.parseLong(kvBudget.trim());
            if (bytes >= 0) return bytes;
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new JtuneException("--kv-budget-bytes takes a number of bytes >= 0 or auto, got " + kvBudget);
    }

    private Map<String, Path> adapters() throws JtuneException {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String a : adapters) {
            int eq = a.indexOf('=');
            if (eq <= 0 || eq == a.length() - 1) throw new JtuneException("--adapter " + a + ": expected NAME=DIR");
            String name = a.substring(0, eq);
            if (out.put(name, Path.of(a.substring(eq + 1))) != null) throw new JtuneException("--adapter: the name " + name + " is given twice");
        }
        return out;
    }

    private String apiKey() throws JtuneException {
        if (key == null) return null;
        if (key.value != null) {
            if (key.value.isBlank()) throw new JtuneException("--api-key is empty");
            return key.value;
        }
        try {
            List<String> lines = Files.readAllLines(key.file);
            String k = lines.isEmpty() ? "" : lines.getFirst().strip();
            if (k.isEmpty()) throw new JtuneException("--api-key-file " + key.file + ": the first line is empty");
            return k;
        } catch (IOException e) {
            throw new JtuneException("--api-key-file " + key.file + ": cannot read it: " + e.getMessage(), e);
        }
    }
}
