package org.jtune.models.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.quant.gguf.GgufValue;

/**
 * The tokenizer metadata of a GGUF file (tokenizer.ggml.*, tokenizer.chat_template) from a Hugging Face
 * model folder's tokenizer.json and tokenizer_config.json, so that llama.cpp tokenizes as Hugging Face does.
 *
 * <p>SentencePiece-style BPE (byte fallback, "▁" for spaces: Llama, Mistral, TinyLlama, Phi-3) becomes
 * {@code tokenizer.ggml.model = "llama"}, which llama.cpp runs with its SentencePiece algorithm
 * (llm_tokenizer_spm): start from UTF-8 characters, repeatedly merge the adjacent pair whose concatenation
 * is a vocabulary token of the highest score (the leftmost on ties), then spell leftovers as byte tokens.
 * Hugging Face instead applies the listed merges by rank. The two agree when (a) every adjacent pair whose
 * concatenation is a token has a merge (true of tokenizer.json files made from SentencePiece models: their
 * merges are all splits of every piece) and (b) a token's score orders like its first merge's rank; so a
 * merged token scores −rank, a token no merge makes scores below all of them. (llama.cpp's own converter
 * writes −1000 for every token of such a tokenizer.json; its SPM loop then merges leftmost-first and
 * tokenizes wrongly.) Token types: added special tokens CONTROL (the unk token UNKNOWN), other added tokens
 * USER_DEFINED, {@code <0xXX>} BYTE, holes in the id range UNUSED, the rest NORMAL.
 *
 * <p>Byte-level BPE (GPT-2 style) becomes {@code "gpt2"} with the merges in rank order and a pre-tokenizer
 * name llama.cpp knows ({@code tokenizer.ggml.pre}: GPT-2's, Llama 3's or Qwen2's, {@link ByteLevelPreTokenizers}).
 */
public final class TokenizerToGguf {
    /** ggml token types (gguf-py TokenType). */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    /** jtune's own key: Hugging Face's Metaspace prepend_scheme when it is "first" (llama.cpp has no such key). */
    static final String PREPEND_SCHEME = "jtune.tokenizer.prepend_scheme";

    private TokenizerToGguf() {}

    /** The metadata of the tokenizer in a model folder. */
    public static Map<String, GgufValue> fromModelFolder(Path dir) throws JtuneException {
        Path file = dir.resolve("tokenizer.json");
        JsonNode root = read(file);
        JsonNode cfg = Files.isRegularFile(dir.resolve("tokenizer_config.json")) ? read(dir.resolve("tokenizer_config.json")) : null;
        JsonNode model = root.path("model");
        if (!model.path("vocab").isObject()) throw new JtuneException(file + ": model.vocab: missing; only BPE tokenizer.json files convert to GGUF");
        String type = model.hasNonNull("type") ? model.get("type").asText() : "BPE";
        if (!type.equals("BPE")) throw new JtuneException(file + ": model.type \"" + type + "\" has no GGUF equivalent here (BPE only)");

        Map<String, Integer> vocab = new HashMap<>();
        model.get("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        Map<Integer, JsonNode> added = new LinkedHashMap<>();
        for (JsonNode t : root.path("added_tokens")) added.put(t.path("id").asInt(), t);
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (int id : added.keySet()) size = Math.max(size, id + 1);
        String[] tokens = new String[size];
        vocab.forEach((t, id) -> tokens[id] = t);
        added.forEach((id, t) -> tokens[id] = t.path("content").asText());
        List<String[]> merges = merges(file, model.path("merges"));

        boolean byteLevel = mentions(root.path("pre_tokenizer"), "ByteLevel") || mentions(root.path("decoder"), "ByteLevel");
        String unk = model.hasNonNull("unk_token") ? model.get("unk_token").asText() : null;
        Map<String, GgufValue> out = new LinkedHashMap<>();
        int[] types = new int[size];
        for (int id = 0; id < size; id++) {
            JsonNode a = added.get(id);
            if (tokens[id] == null) {
                tokens[id] = "[PAD" + id + "]";
                types[id] = UNUSED;
            } else if (a != null) {
                types[id] = tokens[id].equals(unk) ? UNKNOWN : a.path("special").asBoolean(false) ? CONTROL : USER_DEFINED;
            } else if (!byteLevel && tokens[id].matches("<0x[0-9A-F]{2}>")) {
                types[id] = BYTE;
            } else {
                types[id] = tokens[id].equals(unk) ? UNKNOWN : NORMAL;
            }
        }
        if (byteLevel) {
            out.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
            out.put("tokenizer.ggml.pre", GgufValue.string(ByteLevelPreTokenizers.name(file, root.path("pre_tokenizer"))));
            out.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
            out.put("tokenizer.ggml.token_type", GgufValue.i32s(types));
            String[] m = new String[merges.size()];
            for (int i = 0; i < m.length; i++) m[i] = merges.get(i)[0] + " " + merges.get(i)[1];
            out.put("tokenizer.ggml.merges", GgufValue.strings(m));
        } else {
            if (!model.path("byte_fallback").asBoolean(false)) {
                throw new JtuneException(file + ": a BPE tokenizer without byte_fallback or ByteLevel has no llama.cpp equivalent");
            }
            Map<String, Integer> firstRank = new HashMap<>();
            for (int r = 0; r < merges.size(); r++) firstRank.putIfAbsent(merges.get(r)[0] + merges.get(r)[1], r);
            float[] scores = new float[size];
            for (int id = 0; id < size; id++) {
                Integer rank = firstRank.get(tokens[id]);
                if (types[id] != NORMAL) scores[id] = 0f;
                else if (rank != null) scores[id] = 0f - rank;
                else scores[id] = -(merges.size() + (float) id);
            }
            out.put("tokenizer.ggml.model", GgufValue.string("llama"));
            out.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
            out.put("tokenizer.ggml.scores", GgufValue.f32s(scores));
            out.put("tokenizer.ggml.token_type", GgufValue.i32s(types));
            String scheme = metaspaceScheme(root);
            out.put("tokenizer.ggml.add_space_prefix", GgufValue.bool(scheme != null));
            if ("first".equals(scheme)) out.put(PREPEND_SCHEME, GgufValue.string("first"));
        }
        Map<String, Integer> ids = new HashMap<>(vocab);
        added.forEach((id, t) -> ids.put(t.path("content").asText(), id));
        JsonNode config = Files.isRegularFile(dir.resolve("config.json")) ? read(dir.resolve("config.json")) : null;
        putId(out, "tokenizer.ggml.bos_token_id", ids, cfg, "bos_token", config, "bos_token_id");
        putId(out, "tokenizer.ggml.eos_token_id", ids, cfg, "eos_token", config, "eos_token_id");
        putId(out, "tokenizer.ggml.unknown_token_id", ids, cfg, "unk_token", null, null);
        if (!out.containsKey("tokenizer.ggml.unknown_token_id") && unk != null && ids.containsKey(unk)) {
            out.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(ids.get(unk)));
        }
        putId(out, "tokenizer.ggml.padding_token_id", ids, cfg, "pad_token", config, "pad_token_id");
        boolean[] addBosEos = addBosEos(root.path("post_processor"), cfg, tokens, out);
        out.put("tokenizer.ggml.add_bos_token", GgufValue.bool(addBosEos[0]));
        out.put("tokenizer.ggml.add_eos_token", GgufValue.bool(addBosEos[1]));
        String template = chatTemplate(dir, cfg);
        if (template != null) out.put("tokenizer.chat_template", GgufValue.string(template));
        return out;
    }

    private static JsonNode read(Path file) throws JtuneException {
        try {
            return new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read JSON: " + e.getMessage(), e);
        }
    }

    private static List<String[]> merges(Path file, JsonNode node) throws JtuneException {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            if (m.isTextual()) {
                String[] p = m.asText().split(" ", -1);
                if (p.length != 2) throw new JtuneException(file + ": model.merges[" + i + "]: \"" + m.asText() + "\" is not two tokens");
                out.add(p);
            } else if (m.isArray() && m.size() == 2) {
                out.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                throw new JtuneException(file + ": model.merges[" + i + "]: not a merge");
            }
        }
        return out;
    }

    private static boolean mentions(JsonNode node, String type) {
        if (node == null || node.isMissingNode() || node.isNull()) return false;
        if (type.equals(node.path("type").asText())) return true;
        for (JsonNode child : node) if (child.isContainerNode() && mentions(child, type)) return true;
        return false;
    }

    /** "always" or "first" when a space prefix is added (a Prepend("▁") normalizer or a Metaspace pre-tokenizer), else null. */
    private static String metaspaceScheme(JsonNode root) {
        for (JsonNode n : List.of(root.path("normalizer"), root.path("pre_tokenizer"))) {
            List<JsonNode> parts = new ArrayList<>();
            if (n.has("normalizers")) n.get("normalizers").forEach(parts::add);
            else if (n.has("pretokenizers")) n.get("pretokenizers").forEach(parts::add);
            else parts.add(n);
            for (JsonNode p : parts) {
                String type = p.path("type").asText();
                if (type.equals("Prepend") && "\u2581".equals(p.path("prepend").asText())) return "always";
                if (type.equals("Metaspace")) {
                    String scheme = p.has("prepend_scheme") ? p.get("prepend_scheme").asText()
                            : p.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                    return scheme.equals("never") ? null : scheme;
                }
            }
        }
        return null;
    }

    private static void putId(Map<String, GgufValue> out, String key, Map<String, Integer> ids, JsonNode cfg, String cfgKey,
                              JsonNode config, String configKey) {
        if (cfg != null && cfg.has(cfgKey) && !cfg.get(cfgKey).isNull()) {
            JsonNode t = cfg.get(cfgKey);
            String content = t.isObject() ? t.path("content").asText() : t.asText();
            Integer id = ids.get(content);
            if (id != null) {
                out.put(key, GgufValue.u32(id));
                return;
            }
        }
        if (config != null && configKey != null) {
            JsonNode v = config.get(configKey);
            if (v != null && v.isArray() && !v.isEmpty()) v = v.get(0);
            if (v != null && v.canConvertToInt() && v.asInt() >= 0) out.put(key, GgufValue.u32(v.asInt()));
        }
    }

    /** add_bos/add_eos: tokenizer_config.json's flags, else whether the post-processor's single template adds them. */
    private static boolean[] addBosEos(JsonNode post, JsonNode cfg, String[] tokens, Map<String, GgufValue> out) {
        boolean bos = false, eos = false;
        JsonNode single = post.path("single");
        if (single.isArray() && !single.isEmpty()) {
            bos = single.get(0).has("SpecialToken");
            eos = single.get(single.size() - 1).has("SpecialToken");
        } else if ("TemplateProcessing".equals(post.path("type").asText())) {
            bos = false;
        }
        if (cfg != null && cfg.has("add_bos_token") && cfg.get("add_bos_token").isBoolean()) bos = cfg.get("add_bos_token").asBoolean();
        if (cfg != null && cfg.has("add_eos_token") && cfg.get("add_eos_token").isBoolean()) eos = cfg.get("add_eos_token").asBoolean();
        return new boolean[] {bos, eos};
    }

    private static String chatTemplate(Path dir, JsonNode cfg) throws JtuneException {
        if (cfg != null && cfg.has("chat_template")) {
            JsonNode t = cfg.get("chat_template");
            if (t.isTextual()) return t.asText();
            if (t.isArray()) {
                for (JsonNode named : t) if ("default".equals(named.path("name").asText())) return named.path("template").asText();
                if (!t.isEmpty()) return t.get(0).path("template").asText();
            }
        }
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja);
            } catch (IOException e) {
                throw new JtuneException(jinja + ": " + e.getMessage(), e);
            }
        }
        return null;
    }
}
