package org.jtune.models.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.quant.gguf.GgufMetadata;

/**
 * A {@link Tokenizer} from the tokenizer metadata of a GGUF file, by way of the Hugging Face tokenizer.json
 * that describes the same tokenizer (written to a temporary folder and loaded with {@link Tokenizer#load}).
 *
 * <ul>
 * <li>{@code "llama"} (SentencePiece): llama.cpp merges the adjacent pair whose concatenation is the
 *     best-scoring token; as BPE that is one merge per split (l, r) of each normal token into two
 *     vocabulary tokens, ranked by the token's score (highest first). A space prefix
 *     (add_space_prefix, default true) is a Prepend("▁") normalizer, as llama.cpp prepends a space to every
 *     text fragment after a special token; jtune's own prepend_scheme key restores Metaspace "first".
 *     Byte fallback; CONTROL/UNKNOWN tokens are special added tokens, USER_DEFINED ones plain added
 *     tokens.</li>
 * <li>{@code "gpt2"}: byte-level BPE with the file's merges in order and the split regex tokenizer.ggml.pre names
 *     (GPT-2's, Llama 3's, Qwen2's: {@link ByteLevelPreTokenizers}; another name is refused).</li>
 * </ul>
 * add_bos/add_eos become the post-processor; bos/eos/unk/pad ids, the chat template and the trained system
 * message ({@value HfToGguf#SYSTEM_MESSAGE_KEY}, as training_system_message) go to the tokenizer_config.json beside it.
 */
public final class GgufToTokenizer {
    private GgufToTokenizer() {}

    public static Tokenizer load(GgufMetadata m) throws JtuneException {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("jtune-gguf-tokenizer");
            write(m, dir);
            return Tokenizer.load(dir);
        } catch (IOException e) {
            throw new JtuneException("cannot build the tokenizer of the GGUF metadata: " + e.getMessage(), e);
        } finally {
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path p : files.toList()) Files.deleteIfExists(p);
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a temporary folder left behind is harmless
                }
            }
        }
    }

    /** Writes tokenizer.json and tokenizer_config.json describing the GGUF tokenizer into dir. */
    public static void write(GgufMetadata m, Path dir) throws JtuneException, IOException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        String kind = m.getString("tokenizer.ggml.model");
        String[] tokens = m.getStrings("tokenizer.ggml.tokens");
        int[] types = m.has("tokenizer.ggml.token_type") ? m.getInts("tokenizer.ggml.token_type") : new int[tokens.length];
        if (types.length < tokens.length) throw new JtuneException("tokenizer.ggml.token_type has " + types.length + " entries for " + tokens.length + " tokens");
        int unkId = m.has("tokenizer.ggml.unknown_token_id") ? m.getInt("tokenizer.ggml.unknown_token_id") : kind.equals("llama") ? 0 : -1;
        int bosId = m.has("tokenizer.ggml.bos_token_id") ? m.getInt("tokenizer.ggml.bos_token_id") : kind.equals("llama") ? 1 : -1;
        int eosId = m.has("tokenizer.ggml.eos_token_id") ? m.getInt("tokenizer.ggml.eos_token_id") : kind.equals("llama") ? 2 : -1;
        boolean addBos = m.has("tokenizer.ggml.add_bos_token") ? m.getBool("tokenizer.ggml.add_bos_token") : kind.equals("llama");
        boolean addEos = m.has("tokenizer.ggml.add_eos_token") && m.getBool("tokenizer.ggml.add_eos_token");

        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < tokens.length; id++) {
            int t = types[id];
            if (t == TokenizerToGguf.CONTROL || t == TokenizerToGguf.UNKNOWN || t == TokenizerToGguf.USER_DEFINED || id == unkId) {
                ObjectNode a = added.addObject();
                a.put("id", id).put("content", tokens[id]).put("single_word", false).put("lstrip", false).put("rstrip", false)
                        .put("normalized", false).put("special", t != TokenizerToGguf.USER_DEFINED);
            }
        }
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = f.objectNode();
        for (int id = 0; id < tokens.length; id++) if (!vocab.has(tokens[id])) vocab.put(tokens[id], id);
        ArrayNode merges;
        if (kind.equals("llama")) {
            float[] scores = m.has("tokenizer.ggml.scores") ? m.getFloats("tokenizer.ggml.scores") : new float[tokens.length];
            merges = spmMerges(tokens, types, scores, f);
            boolean prefix = !m.has("tokenizer.ggml.add_space_prefix") || m.getBool("tokenizer.ggml.add_space_prefix");
            boolean first = prefix && m.has(TokenizerToGguf.PREPEND_SCHEME) && m.getString(TokenizerToGguf.PREPEND_SCHEME).equals("first");
            ObjectNode replace = f.objectNode().put("type", "Replace").put("content", "\u2581");
            replace.putObject("pattern").put("String", " ");
            if (first) {
                root.set("normalizer", replace);
                root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
            } else if (prefix) {
                ObjectNode seq = root.putObject("normalizer").put("type", "Sequence");
                seq.putArray("normalizers").add(f.objectNode().put("type", "Prepend").put("prepend", "\u2581")).add(replace);
                root.putNull("pre_tokenizer");
            } else {
                root.set("normalizer", replace);
                root.putNull("pre_tokenizer");
            }
            ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
            ArrayNode decoders = dec.putArray("decoders");
            ObjectNode back = decoders.addObject().put("type", "Replace").put("content", " ");
            back.putObject("pattern").put("String", "\u2581");
            decoders.addObject().put("type", "ByteFallback");
            decoders.addObject().put("type", "Fuse");
            if (prefix) decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
            model.put("byte_fallback", true).put("fuse_unk", true);
            if (unkId >= 0 && unkId < tokens.length) model.put("unk_token", tokens[unkId]);
        } else if (kind.equals("gpt2")) {
            merges = f.arrayNode();
            for (String merge : m.getStrings("tokenizer.ggml.merges")) merges.add(merge);
            ByteLevelPreTokenizers.describe(m.has("tokenizer.ggml.pre") ? m.getString("tokenizer.ggml.pre") : null, root);
            root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
            model.put("byte_fallback", false);
        } else {
            throw new JtuneException("tokenizer.ggml.model \"" + kind + "\" is not supported (llama, gpt2)");
        }
        model.set("vocab", vocab);
        model.set("merges", merges);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single"), pair = post.putArray("pair");
        ObjectNode specials = post.putObject("special_tokens");
        for (String seq : new String[] {"A", "B"}) {
            ArrayNode target = seq.equals("A") ? single : pair;
            List<ArrayNode> into = seq.equals("A") ? List.of(single, pair) : List.of(pair);
            if (addBos && bosId >= 0) for (ArrayNode a : into) special(a, tokens[bosId]);
            for (ArrayNode a : into) a.addObject().putObject("Sequence").put("id", seq).put("type_id", 0);
            if (addEos && eosId >= 0) for (ArrayNode a : into) special(a, tokens[eosId]);
            if (target == pair) break;
        }
        for (int id : new int[] {bosId, eosId}) {
            if (id >= 0 && id < tokens.length) {
                ObjectNode s = specials.putObject(tokens[id]);
                s.put("id", tokens[id]);
                s.putArray("ids").add(id);
                s.putArray("tokens").add(tokens[id]);
            }
        }
        ObjectNode cfg = f.objectNode();
        if (bosId >= 0 && bosId < tokens.length) cfg.put("bos_token", tokens[bosId]);
        if (eosId >= 0 && eosId < tokens.length) cfg.put("eos_token", tokens[eosId]);
        if (unkId >= 0 && unkId < tokens.length) cfg.put("unk_token", tokens[unkId]);
        if (m.has("tokenizer.ggml.padding_token_id")) {
            int pad = m.getInt("tokenizer.ggml.padding_token_id");
            if (pad >= 0 && pad < tokens.length) cfg.put("pad_token", tokens[pad]);
        }
        cfg.put("add_bos_token", addBos).put("add_eos_token", addEos);
        if (m.has("tokenizer.chat_template")) cfg.put("chat_template", m.getString("tokenizer.chat_template"));
        if (m.has(HfToGguf.SYSTEM_MESSAGE_KEY)) cfg.put(PromptFormat.SYSTEM_MESSAGE_KEY, m.getString(HfToGguf.SYSTEM_MESSAGE_KEY));
        ObjectMapper json = new ObjectMapper();
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
    }

    private static void special(ArrayNode a, String token) {
        a.addObject().putObject("SpecialToken").put("id", token).put("type_id", 0);
    }

    /** One merge per split of each normal multi-character token into two tokens, best-scoring token first. */
    private static ArrayNode spmMerges(String[] tokens, int[] types, float[] scores, JsonNodeFactory f) {
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            if (types[id] == TokenizerToGguf.NORMAL || types[id] == 0) ids.putIfAbsent(tokens[id], id);
        }
        record Merge(float score, int id, int split, String left, String right) {}
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            if (types[id] != TokenizerToGguf.NORMAL && types[id] != 0) continue;
            String t = tokens[id];
            for (int i = t.offsetByCodePoints(0, 1); i < t.length(); i = t.offsetByCodePoints(i, 1)) {
                String l = t.substring(0, i), r = t.substring(i);
                if (ids.containsKey(l) && ids.containsKey(r)) merges.add(new Merge(scores[id], id, i, l, r));
            }
        }
        merges.sort(Comparator.comparingDouble((Merge x) -> -x.score).thenComparingInt(Merge::id).thenComparingInt(Merge::split));
        ArrayNode out = f.arrayNode();
        for (Merge x : merges) out.add(f.arrayNode().add(x.left).add(x.right));
        return out;
    }
}
