package org.jtune.serve;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.text.PromptCodec;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;

/**
 * A real server for client tests: stories260K (a real pretrained Llama) served as "stories", with a
 * LoRA adapter "tuned" made on the spot (random, non-zero B so it changes the answers), the built-in
 * chatml template, a SQLite request log in a temporary folder, and an API key.
 */
public final class TestServer implements AutoCloseable {
    public static final String BASE = "stories";
    public static final String ADAPTER = "tuned";
    public static final String KEY = "sk-test-0123456789";

    public final Path modelDir;
    public final Path adapterDir;
    public final Path logDb;
    public final OpenAiServer server;
    public final PromptCodec codec;

    private TestServer(Path modelDir, Path adapterDir, Path logDb, OpenAiServer server, PromptCodec codec) {
        this.modelDir = modelDir;
        this.adapterDir = adapterDir;
        this.logDb = logDb;
        this.server = server;
        this.codec = codec;
    }

    /** Starts one; {@code wrap} may decorate the engine (pacing, gating) for a test. */
    public static TestServer start(Path tmp, BatchingEngine.Options engineOptions, UnaryOperator<Engine> wrap) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = makeAdapter(model, tmp.resolve("adapter"));
        Map<String, Path> adapters = new LinkedHashMap<>();
        adapters.put(ADAPTER, adapter);
        ServedModels models = ServedModels.load(model, BASE, adapters);
        Engine engine = wrap.apply(BatchingEngine.start(models, engineOptions));
        Tokenizer tok = Tokenizer.load(model);
        ChatTemplate template = ChatTemplate.named("chatml").withSpecialTokens(TokenizerConfig.read(model).specialTokens());
        PromptCodec codec = PromptCodec.of(tok, template, models.model().config());
        Path db = tmp.resolve("requests.db");
        RequestLog log = RequestLog.open("jdbc:sqlite:" + db);
        ServerOptions options = ServerOptions.defaults().withPort(0).withApiKey(KEY).withMaxBodyBytes(64 * 1024)
                .withFingerprint("fp_test");
        return new TestServer(model, adapter, db, OpenAiServer.start(engine, codec, log, options), codec);
    }

    public static TestServer start(Path tmp) throws Exception {
        return start(tmp, new BatchingEngine.Options(4, 16), e -> e);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

    /** A raw call, as clients without an SDK make it: POST of a JSON body (GET when null), with the key when given. */
    public java.net.http.HttpResponse<String> send(String path, String body, String key) throws Exception {
        var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(baseUrl() + path));
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (body != null) b.header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    /** A PEFT adapter for stories260K with random A and B (the answers differ from the base). */
    static Path makeAdapter(Path model, Path out) throws Exception {
        return makeAdapter(model, out, 12);
    }

    /** As {@link #makeAdapter(Path, Path)} with B drawn from {@code seed} (different seeds, different answers). */
    static Path makeAdapter(Path model, Path out, long seed) throws Exception {
        LoraConfig config = new LoraConfig(4, 8f, 0f, LoraConfig.ALL_LINEAR, false, List.of());
        try (CausalLM m = Architectures.load(model)) {
            Map<String, Variable> params = LoraAdapters.attach(m, org.jtune.models.lora.Adapters.DEFAULT, config, new Rng(11), false);
            Rng rng = new Rng(seed);
            for (var e : params.entrySet()) {
                if (!e.getKey().endsWith("lora_B.weight")) continue;
                Tensor v = e.getValue().value();
                org.jtune.tensor.Ops.copyInto(Tensor.randn(rng, 0.1f, v.shape()), v);
            }
            PeftFormat.save(out, m, org.jtune.models.lora.Adapters.DEFAULT, model.toString());
        }
        return out;
    }

    @Override
    public void close() {
        server.close();
    }
}
