package org.jtune.models.qwen2;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.tokenizer.ByteLevelAlphabet;
import org.jtune.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pieces of Qwen2's tokenizer.json (NFC, its Split regex with single digits and case-insensitive
 * contractions, ByteLevel without its own regex, ChatML added tokens) and Qwen2-Instruct's chat
 * template run through the generic tokenizer.json and tokenizer_config.json code. No Qwen2 tokenizer
 * file is kept beside the repository, so this checks the structure on a small vocabulary whose merges
 * would cross every split boundary if a split were missed; the real vocabulary is not checked here.
 */
public class Qwen2TokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The Split pattern of Qwen2 / Qwen2.5's tokenizer.json. */
    static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String CHATML = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @Test
    void splitsLikeQwen2(@TempDir Path dir) throws Exception {
        // merges that would join across every boundary of Qwen2's pre-tokenizer: digits, space+letters, contractions, punctuation runs
        List<String> merges = List.of("1 2", "12 3", "Ġ w", "Ġw o", "Ġwo r", "Ġwor l", "Ġworl d", "H e", "He l", "Hel l", "Hell o",
                "o Ġ", "' S", "'S Ġ", "! !", "!! Ċ", "d '", "I '");
        write(dir, merges);
        Tokenizer t = Tokenizer.load(dir);
        assertEquals(List.of("1", "2", "3"), pieces(t, "123"), "\\p{N} takes one digit at a time");
        assertEquals(List.of("Hello", "Ġworld"), pieces(t, "Hello world"), "a space joins the letters after it");
        assertEquals(List.of("I", "'S", "Ġ", "!!Ċ"), pieces(t, "I'S !!\n"), "case-insensitive contraction; punctuation keeps its newlines");
        assertEquals("Hello world 123 I'S !!\n", t.decode(t.encode("Hello world 123 I'S !!\n", false), false));
        assertEquals(1, t.encode("<|im_start|>", false).length, "ChatML tokens are added tokens");
        assertEquals(List.of("<|im_start|>", "u", "s", "e", "r"), pieces(t, "<|im_start|>user"), "no merge crosses an added token");
    }

    @Test
    void rendersChatMlWithTheDefaultSystemMessage(@TempDir Path dir) throws Exception {
        write(dir, List.of());
        String rendered = ChatTemplate.load(dir).render(List.of(new Message("user", "Hi")), true, Map.of());
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", rendered);
        String withSystem = ChatTemplate.load(dir).render(List.of(new Message("system", "S"), new Message("user", "Hi")), false, Map.of());
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n", withSystem);
    }

    private static List<String> pieces(Tokenizer t, String text) {
        List<String> out = new ArrayList<>();
        for (int id : t.encode(text, false)) out.add(t.tokenString(id));
        return out;
    }

    static void write(Path dir, List<String> merges) throws Exception {
        write(dir, merges, List.of(), CHATML);
    }

    /**
     * A Qwen2-style tokenizer folder: byte vocabulary plus these merges, ChatML special tokens, {@code plainAdded} as
     * added tokens that are not special (as Qwen2.5 adds &lt;tool_call&gt;), and this chat template.
     */
    public static void write(Path dir, List<String> merges, List<String> plainAdded, String chatTemplate) throws Exception {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), b);
        for (String m : merges) vocab.putIfAbsent(m.replace(" ", ""), vocab.size());
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>")) {
            int id = vocab.size();
            vocab.put(s, id);
            added.addObject().put("id", id).put("content", s).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
        }
        for (String s : plainAdded) {
            int id = vocab.size();
            vocab.put(s, id);
            added.addObject().put("id", id).put("content", s).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", false);
        }
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode seq = pre.putArray("pretokenizers");
        ObjectNode split = seq.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", QWEN2_SPLIT);
        split.put("behavior", "Isolated").put("invert", false);
        seq.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        model.set("vocab", JSON.valueToTree(vocab));
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        ObjectNode tc = JSON.createObjectNode();
        tc.put("eos_token", "<|im_end|>").put("pad_token", "<|endoftext|>").putNull("bos_token").put("chat_template", chatTemplate)
                .put("tokenizer_class", "Qwen2Tokenizer").put("add_prefix_space", false);
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(tc));
    }
}
