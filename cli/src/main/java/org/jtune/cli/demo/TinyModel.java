package org.jtune.cli.demo;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.arch.Architectures;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Writes the demo's base model as a Hugging Face folder: a byte-level BPE tokenizer.json learned from
 * the corpus, tokenizer_config.json with a Zephyr-style chat template whose assistant turns end with
 * EOS, config.json of a small Llama (GQA, tied embeddings) and randomly initialised weights
 * (normal(0, 0.02) as transformers initialises Llama, norms at 1).
 */
final class TinyModel {
    static final String UNTRAINED = "base-untrained";
    static final List<String> SPECIAL = List.of("<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>");
    static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyModel() {}

    static LlamaConfig write(Path dir, List<String> corpus, int merges, long seed) throws JtuneException {
        TinyBpe.Vocabulary v = TinyBpe.learn(corpus, merges);
        int vocab = SPECIAL.size() + v.tokens().size();
        writeTokenizer(dir, v);
        LlamaConfig config = LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama")
                .hiddenSize(96).intermediateSize(256).numHiddenLayers(4).numAttentionHeads(4).numKeyValueHeads(2).headDim(24)
                .ropeTheta(10000).rmsNormEps(1e-5).tieWordEmbeddings(true).maxPositionEmbeddings(256).vocabSize(vocab)
                .bosTokenIds(List.of(1)).eosTokenIds(List.of(2)).torchDtype("float32").build();
        config.write(dir.resolve("config.json"));
        Map<String, Tensor> w = Architectures.randomWeights(config, new Rng(seed), 0.02f);
        SafetensorsWriter.defaults().writeModel(dir, w);
        return config;
    }

    private static void writeTokenizer(Path dir, TinyBpe.Vocabulary v) throws JtuneException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = JSON.createObjectNode();
        int id = 0;
        for (String s : SPECIAL) {
            ObjectNode t = added.addObject();
            t.put("id", id).put("content", s).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
            vocab.put(s, id++);
        }
        for (String t : v.tokens()) vocab.put(t, id++);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").put("fuse_unk", false).put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode merges = model.putArray("merges");
        v.merges().forEach(merges::add);
        ObjectNode config = JSON.createObjectNode();
        config.put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>").put("chat_template", CHAT_TEMPLATE)
                .put("model_max_length", 256).put("tokenizer_class", "PreTrainedTokenizerFast");
        try {
            AtomicFile.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
            AtomicFile.writeString(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            AtomicFile.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 1, \"eos_token_id\": 2}\n");
        } catch (java.io.IOException e) {
            throw new JtuneException("cannot write the demo tokenizer in " + dir + ": " + e.getMessage(), e);
        }
    }
}
