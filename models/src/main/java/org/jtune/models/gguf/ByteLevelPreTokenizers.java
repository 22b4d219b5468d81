package org.jtune.models.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;

/**
 * The byte-level BPE pre-tokenizers jtune names in GGUF (tokenizer.ggml.pre), both ways: llama.cpp keeps a fixed
 * set of split regexes under names, while a tokenizer.json spells its regex out. Three are recognised:
 * <ul>
 * <li>{@code gpt-2}: a ByteLevel pre-tokenizer with its own (GPT-2) regex;</li>
 * <li>{@code llama-bpe} (Llama 3, 3.1, 3.2, 3.3): a Split on {@link #LLAMA3} (digits in runs of up to three), then
 *     ByteLevel without a regex;</li>
 * <li>{@code qwen2} (Qwen2, Qwen2.5, Qwen3): the same with single digits ({@link #QWEN2}) and an NFC normalizer;</li>
 * <li>{@code smollm} (SmolLM, SmolLM2): every digit a word of its own (a Digits pre-tokenizer), then GPT-2's ByteLevel.</li>
 * </ul>
 * Any other tokenizer.json pre-tokenizer, and any other tokenizer.ggml.pre, is refused by name: a wrong regex would
 * tokenize differently without a word.
 */
final class ByteLevelPreTokenizers {
    static final String GPT2 = "gpt-2", LLAMA_BPE = "llama-bpe", QWEN2_NAME = "qwen2", SMOLLM = "smollm";
    /** The Split regex of Llama 3's tokenizer.json. */
    static final String LLAMA3 =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** The Split regex of Qwen2's (and Qwen2.5's, Qwen3's) tokenizer.json. */
    static final String QWEN2 =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final List<String> NAMES = List.of(GPT2, LLAMA_BPE, QWEN2_NAME, SMOLLM);

    private ByteLevelPreTokenizers() {}

    /** llama.cpp's name of a tokenizer.json's byte-level pre-tokenizer ({@code file} names it in the error). */
    static String name(Path file, JsonNode pre) throws JtuneException {
        if ("ByteLevel".equals(pre.path("type").asText()) && pre.path("use_regex").asBoolean(true)) return GPT2;
        JsonNode parts = pre.path("pretokenizers");
        if ("Sequence".equals(pre.path("type").asText()) && parts.size() == 2) {
            JsonNode split = parts.get(0), bytes = parts.get(1);
            if ("Digits".equals(split.path("type").asText()) && split.path("individual_digits").asBoolean(false)
                    && "ByteLevel".equals(bytes.path("type").asText()) && bytes.path("use_regex").asBoolean(true)
                    && !bytes.path("add_prefix_space").asBoolean(false)) {
                return SMOLLM;
            }
            boolean shape = "Split".equals(split.path("type").asText()) && "Isolated".equals(split.path("behavior").asText())
                    && !split.path("invert").asBoolean(false) && "ByteLevel".equals(bytes.path("type").asText())
                    && !bytes.path("use_regex").asBoolean(true) && !bytes.path("add_prefix_space").asBoolean(false);
            String regex = split.path("pattern").path("Regex").asText(null);
            if (shape && LLAMA3.equals(regex)) return LLAMA_BPE;
            if (shape && QWEN2.equals(regex)) return QWEN2_NAME;
        }
        throw new JtuneException(file + ": pre_tokenizer " + pre + " has no llama.cpp pre-tokenizer name known to jtune (GPT-2's "
                + "ByteLevel, Llama 3's and Qwen2's Split regex then ByteLevel, SmolLM's single Digits then ByteLevel: " + String.join(", ", NAMES) + ")");
    }

    /**
     * The tokenizer.json normalizer and pre-tokenizer of llama.cpp pre-tokenizer {@code name} (absent or "default":
     * GPT-2's), set on {@code root}.
     */
    static void describe(String name, ObjectNode root) throws JtuneException {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (name == null || name.equals("default") || name.equals(GPT2)) {
            root.putNull("normalizer");
            root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
            return;
        }
        if (name.equals(SMOLLM)) {
            root.putNull("normalizer");
            ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
            pre.putArray("pretokenizers").addObject().put("type", "Digits").put("individual_digits", true);
            pre.withArray("pretokenizers").add(f.objectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                    .put("use_regex", true));
            return;
        }
        String regex = switch (name) {
            case LLAMA_BPE -> LLAMA3;
            case QWEN2_NAME -> QWEN2;
            default -> throw new JtuneException("tokenizer.ggml.pre \"" + name + "\" is a pre-tokenizer jtune does not know (known: "
                    + String.join(", ", NAMES) + "); tokenizing with another regex would give other ids");
        };
        if (name.equals(QWEN2_NAME)) root.putObject("normalizer").put("type", "NFC");
        else root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ObjectNode split = pre.putArray("pretokenizers").addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated").put("invert", false);
        pre.withArray("pretokenizers").add(f.objectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                .put("use_regex", false));
    }
}
