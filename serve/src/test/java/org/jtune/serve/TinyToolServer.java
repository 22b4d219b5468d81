package org.jtune.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.text.PromptCodec;

/**
 * The tool-calling tests' server: a tiny random Llama (2 layers of width 32) with a real model's tokenizer files, served
 * under one name, and the OpenAI Java SDK as its client. The calls it makes are random, the syntax and constraints real.
 */
final class TinyToolServer implements AutoCloseable {
    final OpenAiServer server;
    final BatchingEngine engine;
    final OpenAIClient client;
    final PromptCodec codec;

    private TinyToolServer(OpenAiServer server, BatchingEngine engine, PromptCodec codec) {
        this.server = server;
        this.engine = engine;
        this.codec = codec;
        this.client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
    }

    /**
     * Serves {@code name} from {@code dir}: the files of {@code tokenizerFolder} copied in, a vocabulary of {@code vocab}
     * with those BOS and EOS ids, the chat template given (null: the folder's own).
     */
    static TinyToolServer start(Path dir, String name, Path tokenizerFolder, List<String> files, int vocab, int bos, int eos,
                                ChatTemplate template, long seed) throws Exception {
        Files.createDirectories(dir);
        LlamaConfig config = LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(32).intermediateSize(48)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).ropeTheta(10000).rmsNormEps(1e-5)
                .tieWordEmbeddings(false).maxPositionEmbeddings(2048).vocabSize(vocab).bosTokenIds(List.of(bos)).eosTokenIds(List.of(eos))
                .torchDtype("float32").build();
        config.write(dir.resolve("config.json"));
        SafetensorsWriter.defaults().writeModel(dir, Architectures.randomWeights(config, new org.jtune.tensor.Rng(seed), 0.3f));
        for (String f : files) Files.copy(tokenizerFolder.resolve(f), dir.resolve(f));
        ServedModels models = ServedModels.load(dir, name, Map.of());
        BatchingEngine engine = BatchingEngine.start(models, new BatchingEngine.Options(4, 16));
        PromptCodec codec = PromptCodec.of(Tokenizer.load(dir), template != null ? template : ChatTemplate.load(dir), models.model().config());
        return new TinyToolServer(OpenAiServer.start(engine, codec, null, ServerOptions.defaults().withPort(0).withApiKey(TestServer.KEY)), engine, codec);
    }

    @Override
    public void close() {
        server.close();
        engine.close();
    }
}
