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
import picocli.CommandLine.Option;

/** `jtune serve`: the OpenAI-compatible server; runs until SIGTERM or Ctrl-C, then drains in-flight requests and exits. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model (and LoRA adapters, each by its name) over an OpenAI-compatible HTTP API: "
                + "/v1/chat/completions, /v1/completions, /v1/models, /v1/feedback, /health, /metrics. "
                + "Every request is logged (SQLite jtune-requests.db by default). SIGTERM drains in-flight requests, then exits."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout).")
    Path model;

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "The name clients send as \"model\" for the base (default: the folder's name).")
    String servedName;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", description = "A PEFT LoRA adapter served as model NAME (repeatable).")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Chat template: the model's own by default; a built-in one (chatml, llama2, llama3, mistral) or a Jinja file.")
    String chatTemplate;

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

    @Option(names = "--kv-budget-bytes", defaultValue = "0",
            description = "KV cache memory for all sequences, in 16-position blocks with shared prompt prefixes (default 0: a growing buffer per sequence).")
    long kvBudgetBytes;

    @Option(names = "--max-queue", defaultValue = "256", description = "Most requests waiting; more are answered 429 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", defaultValue = "4194304", description = "Largest request body; larger ones are answered 413 (default ${DEFAULT-VALUE}).")
    long maxBodyBytes;

    @Option(names = "--log-db", paramLabel = "JDBC_URL",
            description = "Request log database: jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB?user=..&password=.. (default jdbc:sqlite:jtune-requests.db).")
    String logDb;

    @Override
    public Integer call() {
        try {
            if (maxBatch < 1 || maxQueue < 1 || maxBodyBytes < 1 || maxStepTokens < 1 || kvBudgetBytes < 0) {
                throw new JtuneException("--max-batch, --max-queue, --max-step-tokens and --max-body-bytes must be >= 1, --kv-budget-bytes >= 0");
            }
            ServeConfig config = new ServeConfig(model, servedName, adapters(), chatTemplate, host, port, apiKey(), maxBatch, maxQueue,
                    maxBodyBytes, logDb, maxStepTokens, kvBudgetBytes);
            OpenAiServer server = ServeLauncher.start(config).closeOnShutdown();
            List<String> names = server.engine().modelNames();
            System.err.println("jtune serve: " + names.getFirst() + (names.size() > 1 ? " and adapters " + String.join(", ", names.subList(1, names.size())) : "")
                    + " on http://" + server.host() + ":" + server.port() + "/v1 (request log " + (logDb == null ? "jdbc:sqlite:jtune-requests.db" : logDb)
                    + (config.apiKey() == null ? "; no API key" : "") + "); SIGTERM or Ctrl-C drains and stops");
            server.join();
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune serve: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (Exception e) {
            System.err.println("jtune serve: " + e);
            return 1;
        }
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
