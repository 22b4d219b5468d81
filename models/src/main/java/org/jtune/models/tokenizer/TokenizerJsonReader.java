package org.jtune.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jtune.JtuneException;

/**
 * Reads a Hugging Face tokenizer.json into the pipeline stages. Every problem (bad JSON, a missing or
 * unknown model, a merge naming an unknown token, an id out of range, an unsupported normalizer...)
 * is a JtuneException that names the file and the key.
 */
final class TokenizerJsonReader {
    private final Path file;

    private TokenizerJsonReader(Path file) {
        this.file = file;
    }

    static TokenizerParts read(Path file) throws JtuneException {
        return new TokenizerJsonReader(file).parse(JsonFiles.read(file));
    }

    private JtuneException error(String key, String message) {
        return new JtuneException(file + ": " + key + ": " + message);
    }

    private TokenizerParts parse(JsonNode root) throws JtuneException {
        if (!root.isObject()) throw new JtuneException(file + ": expected a JSON object at the top level (is this a tokenizer.json?)");
        JsonNode modelNode = root.get("model");
        if (modelNode == null || !modelNode.isObject()) {
            throw error("model", "missing; a tokenizer.json needs a \"model\" object (BPE vocab and merges)");
        }
        List<AddedToken> added = addedTokens(root.get("added_tokens"));
        BpeModel model = model(modelNode, added);
        Normalizer normalizer = normalizer(root.get("normalizer"), "normalizer");
        PreTokenizer preTokenizer = preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer");
        Map<String, Integer> ids = new HashMap<>();
        for (AddedToken t : added) ids.putIfAbsent(t.content(), t.id());
        PostProcessor post = postProcessor(root.get("post_processor"), "post_processor", model, ids);
        Decoder decoder = decoder(root.get("decoder"), "decoder");
        return new TokenizerParts(file, normalizer, preTokenizer, model, added, post, decoder, -1, List.of());
    }

    // ---- model ----

    private BpeModel model(JsonNode node, List<AddedToken> added) throws JtuneException {
        String type = node.hasNonNull("type") ? node.get("type").asText() : (node.has("merges") ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw error("model.type", "\"" + type + "\" is not supported; jtune reads BPE tokenizers "
                    + "(Llama, Mistral, GPT-2, Qwen, SmolLM ...)");
        }
        JsonNode vocab = node.get("vocab");
        if (vocab == null || !vocab.isObject()) throw error("model.vocab", "missing or not an object of token → id");
        int limit = idLimit(vocab.size() + added.size());
        Map<String, Integer> tokenToId = new HashMap<>(vocab.size() * 2);
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = id(e.getValue(), "model.vocab[\"" + e.getKey() + "\"]", limit);
            tokenToId.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        String[] idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : tokenToId.entrySet()) {
            if (idToToken[e.getValue()] != null) {
                throw error("model.vocab", "id " + e.getValue() + " is given to both \"" + idToToken[e.getValue()]
                        + "\" and \"" + e.getKey() + "\"");
            }
            idToToken[e.getValue()] = e.getKey();
        }
        String prefix = text(node.get("continuing_subword_prefix"));
        String suffix = text(node.get("end_of_word_suffix"));
        JsonNode mergesNode = node.get("merges");
        if (mergesNode == null || mergesNode.isNull()) mergesNode = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        if (!mergesNode.isArray()) throw error("model.merges", "must be a list of \"left right\" strings or [left, right] pairs");
        MergeTable merges = new MergeTable(mergesNode.size());
        int prefixLength = prefix == null ? 0 : prefix.length();
        for (int rank = 0; rank < mergesNode.size(); rank++) {
            JsonNode m = mergesNode.get(rank);
            String key = "model.merges[" + rank + "]";
            String left, right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) throw error(key, "\"" + m.asText() + "\" is not two tokens separated by one space");
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw error(key, "must be a \"left right\" string or a [left, right] pair");
            }
            Integer a = tokenToId.get(left), b = tokenToId.get(right);
            if (a == null || b == null) throw error(key, "token \"" + (a == null ? left : right) + "\" is not in model.vocab");
            if (right.length() < prefixLength) throw error(key, "\"" + right + "\" is shorter than continuing_subword_prefix");
            String merged = left + right.substring(prefixLength);
            Integer id = tokenToId.get(merged);
            if (id == null) throw error(key, "the merged token \"" + merged + "\" is not in model.vocab");
            merges.put(a, b, rank, id);
        }
        String unk = text(node.get("unk_token"));
        if (unk != null && !tokenToId.containsKey(unk)) {
            // Hugging Face accepts an unknown token that only exists among the added tokens.
            boolean inAdded = added.stream().anyMatch(t -> t.content().equals(unk));
            if (!inAdded) throw error("model.unk_token", "\"" + unk + "\" is not in model.vocab");
        }
        return new BpeModel(idToToken, tokenToId, merges, unk, node.path("fuse_unk").asBoolean(false),
                node.path("byte_fallback").asBoolean(false), node.path("ignore_merges").asBoolean(false), prefix, suffix);
    }

    /** Ids must stay near the number of tokens: a hostile id of two billion must not allocate two billion slots. */
    private static int idLimit(int tokenCount) {
        return (int) Math.min(1L << 24, 2L * tokenCount + 65_536);
    }

    private int id(JsonNode node, String key, int limit) throws JtuneException {
        if (node == null || !node.isIntegralNumber()) throw error(key, "id must be an integer, got " + node);
        long id = node.asLong();
        if (!node.canConvertToLong() || id < 0 || id >= limit) {
            throw error(key, "id " + node.asText() + " is out of range (0.." + (limit - 1) + " for a vocabulary of this size)");
        }
        return (int) id;
    }

    private List<AddedToken> addedTokens(JsonNode node) throws JtuneException {
        List<AddedToken> out = new ArrayList<>();
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) throw error("added_tokens", "must be a list");
        int limit = idLimit(1 << 22);
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            String key = "added_tokens[" + i + "]";
            if (!t.isObject()) throw error(key, "must be an object with id and content");
            int id = id(t.get("id"), key + ".id", limit);
            String content = text(t.get("content"));
            if (content == null || content.isEmpty()) throw error(key + ".content", "missing or empty");
            out.add(new AddedToken(id, content, t.path("special").asBoolean(false), t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(true)));
        }
        return out;
    }

    // ---- stages ----

    private Normalizer normalizer(JsonNode node, String key) throws JtuneException {
        if (node == null || node.isNull()) return null;
        String type = type(node, key);
        return switch (type) {
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                JsonNode list = list(node, "normalizers", key);
                for (int i = 0; i < list.size(); i++) steps.add(normalizer(list.get(i), key + ".normalizers[" + i + "]"));
                yield new Normalizer.Sequence(steps);
            }
            case "Prepend" -> new Normalizer.Prepend(requiredText(node, "prepend", key));
            case "Replace" -> {
                Object pattern = pattern(node, key);
                String content = requiredText(node, "content", key);
                yield pattern instanceof Pattern p ? new Normalizer.Replace(p, null, content)
                        : new Normalizer.Replace(null, (String) pattern, content);
            }
            case "NFC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFC);
            case "NFD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Normalizer.Lowercase();
            case "Strip" -> new Normalizer.Strip(node.path("strip_left").asBoolean(true), node.path("strip_right").asBoolean(true));
            default -> throw unsupported(key, type, "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip");
        };
    }

    private PreTokenizer preTokenizer(JsonNode node, String key) throws JtuneException {
        if (node == null || node.isNull()) return null;
        String type = type(node, key);
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                JsonNode list = list(node, "pretokenizers", key);
                for (int i = 0; i < list.size(); i++) steps.add(preTokenizer(list.get(i), key + ".pretokenizers[" + i + "]"));
                yield new PreTokenizer.Sequence(steps);
            }
            case "ByteLevel" -> new PreTokenizer.ByteLevel(node.path("add_prefix_space").asBoolean(true), node.path("use_regex").asBoolean(true));
            case "Split" -> {
                Object pattern = pattern(node, key);
                Pattern p = pattern instanceof Pattern compiled ? compiled : Pattern.compile(Pattern.quote((String) pattern));
                String behaviorName = requiredText(node, "behavior", key);
                SplitBehavior behavior = SplitBehavior.parse(behaviorName);
                if (behavior == null) {
                    throw error(key + ".behavior", "\"" + behaviorName + "\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                }
                yield new PreTokenizer.Split(p, behavior, node.path("invert").asBoolean(false));
            }
            case "Metaspace" -> new PreTokenizer.Metaspace(replacement(node, key), prependScheme(node, key), node.path("split").asBoolean(true));
            case "Digits" -> new PreTokenizer.Digits(node.path("individual_digits").asBoolean(false));
            case "Whitespace" -> new PreTokenizer.Whitespace();
            case "WhitespaceSplit" -> new PreTokenizer.WhitespaceSplit();
            default -> throw unsupported(key, type, "Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit");
        };
    }

    private Decoder decoder(JsonNode node, String key) throws JtuneException {
        if (node == null || node.isNull()) return null;
        String type = type(node, key);
        return switch (type) {
            case "Sequence" -> {
                List<Decoder> steps = new ArrayList<>();
                JsonNode list = list(node, "decoders", key);
                for (int i = 0; i < list.size(); i++) steps.add(decoder(list.get(i), key + ".decoders[" + i + "]"));
                yield new Decoder.Sequence(steps);
            }
            case "Replace" -> {
                Object pattern = pattern(node, key);
                String content = requiredText(node, "content", key);
                yield pattern instanceof Pattern p ? new Decoder.Replace(p, null, content) : new Decoder.Replace(null, (String) pattern, content);
            }
            case "ByteFallback" -> new Decoder.ByteFallback();
            case "Fuse" -> new Decoder.Fuse();
            case "Strip" -> {
                String content = requiredText(node, "content", key);
                if (content.length() != 1) throw error(key + ".content", "must be one character");
                yield new Decoder.Strip(content.charAt(0), node.path("start").asInt(0), node.path("stop").asInt(0));
            }
            case "ByteLevel" -> new Decoder.ByteLevel();
            case "Metaspace" -> new Decoder.Metaspace(replacement(node, key), prependScheme(node, key) != PreTokenizer.Metaspace.PrependScheme.NEVER);
            default -> throw unsupported(key, type, "Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace");
        };
    }

    private PostProcessor postProcessor(JsonNode node, String key, BpeModel model, Map<String, Integer> addedIds) throws JtuneException {
        if (node == null || node.isNull()) return null;
        String type = type(node, key);
        int limit = Math.max(model.size(), addedIds.values().stream().mapToInt(i -> i + 1).max().orElse(0));
        return switch (type) {
            case "TemplateProcessing" -> {
                JsonNode specials = node.path("special_tokens");
                List<PostProcessor.Piece> pieces = new ArrayList<>();
                JsonNode single = list(node, "single", key);
                for (int i = 0; i < single.size(); i++) {
                    JsonNode item = single.get(i);
                    String itemKey = key + ".single[" + i + "]";
                    if (item.has("Sequence")) {
                        pieces.add(PostProcessor.Piece.SEQUENCE);
                    } else if (item.has("SpecialToken")) {
                        String name = item.get("SpecialToken").path("id").asText();
                        JsonNode special = specials.get(name);
                        if (special == null) throw error(itemKey, "special token \"" + name + "\" is not in " + key + ".special_tokens");
                        JsonNode idList = special.path("ids"), tokenList = special.path("tokens");
                        if (!idList.isArray() || !tokenList.isArray() || idList.size() != tokenList.size()) {
                            throw error(key + ".special_tokens." + name, "needs equally long \"ids\" and \"tokens\" lists");
                        }
                        int[] ids = new int[idList.size()];
                        List<String> tokens = new ArrayList<>();
                        for (int j = 0; j < ids.length; j++) {
                            ids[j] = id(idList.get(j), key + ".special_tokens." + name + ".ids[" + j + "]", limit);
                            tokens.add(tokenList.get(j).asText());
                        }
                        pieces.add(new PostProcessor.Piece(ids, tokens));
                    } else {
                        throw error(itemKey, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
                    }
                }
                yield new PostProcessor.Template(pieces);
            }
            case "ByteLevel" -> new PostProcessor.Identity();
            case "BertProcessing", "RobertaProcessing" -> {
                JsonNode cls = node.get("cls"), sep = node.get("sep");
                if (cls == null || sep == null || cls.size() != 2 || sep.size() != 2) throw error(key, "needs cls and sep as [token, id]");
                yield new PostProcessor.Surround(id(cls.get(1), key + ".cls", limit), cls.get(0).asText(),
                        id(sep.get(1), key + ".sep", limit), sep.get(0).asText());
            }
            case "Sequence" -> {
                List<PostProcessor> steps = new ArrayList<>();
                JsonNode list = list(node, "processors", key);
                for (int i = 0; i < list.size(); i++) steps.add(postProcessor(list.get(i), key + ".processors[" + i + "]", model, addedIds));
                yield new PostProcessor.Sequence(steps);
            }
            default -> throw unsupported(key, type, "TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence");
        };
    }

    // ---- small readers ----

    private String type(JsonNode node, String key) throws JtuneException {
        if (!node.isObject()) throw error(key, "must be an object with a \"type\"");
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) throw error(key + ".type", "missing");
        return type.asText();
    }

    private JtuneException unsupported(String key, String type, String supported) {
        return error(key + ".type", "\"" + type + "\" is not supported (supported: " + supported + ")");
    }

    private JsonNode list(JsonNode node, String field, String key) throws JtuneException {
        JsonNode list = node.get(field);
        if (list == null || !list.isArray()) throw error(key + "." + field, "missing or not a list");
        return list;
    }

    private String requiredText(JsonNode node, String field, String key) throws JtuneException {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) throw error(key + "." + field, "missing or not a string");
        return v.asText();
    }

    /** {"String": literal} → the literal; {"Regex": pattern} → the compiled pattern. */
    private Object pattern(JsonNode node, String key) throws JtuneException {
        JsonNode p = node.get("pattern");
        if (p != null && p.hasNonNull("String")) return p.get("String").asText();
        if (p != null && p.hasNonNull("Regex")) {
            try {
                return TokenizerRegex.compile(p.get("Regex").asText());
            } catch (PatternSyntaxException e) {
                throw error(key + ".pattern.Regex", "cannot compile: " + e.getDescription());
            }
        }
        throw error(key + ".pattern", "must be {\"String\": ...} or {\"Regex\": ...}");
    }

    private char replacement(JsonNode node, String key) throws JtuneException {
        String r = node.hasNonNull("replacement") ? node.get("replacement").asText() : "\u2581";
        if (r.length() != 1) throw error(key + ".replacement", "must be one character");
        return r.charAt(0);
    }

    private PreTokenizer.Metaspace.PrependScheme prependScheme(JsonNode node, String key) throws JtuneException {
        if (node.hasNonNull("prepend_scheme")) {
            return switch (node.get("prepend_scheme").asText()) {
                case "always" -> PreTokenizer.Metaspace.PrependScheme.ALWAYS;
                case "first" -> PreTokenizer.Metaspace.PrependScheme.FIRST;
                case "never" -> PreTokenizer.Metaspace.PrependScheme.NEVER;
                default -> throw error(key + ".prepend_scheme", "must be always, first or never");
            };
        }
        return node.path("add_prefix_space").asBoolean(true) ? PreTokenizer.Metaspace.PrependScheme.ALWAYS
                : PreTokenizer.Metaspace.PrependScheme.NEVER;
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }
}
