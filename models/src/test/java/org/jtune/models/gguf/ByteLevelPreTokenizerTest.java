package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.qwen2.Qwen2TokenizerTest;
import org.jtune.models.tokenizer.ByteLevelAlphabet;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.quant.gguf.GgufMetadata;
import org.jtune.quant.gguf.GgufNames;
import org.jtune.quant.gguf.GgufValue;
import org.jtune.quant.gguf.GgufWriter;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Llama 3 and Qwen2 pre-tokenizers in GGUF (tokenizer.ggml.pre "llama-bpe" and "qwen2"). Llama 3 on its real
 * 128k vocabulary: Meta's tiktoken ranks (../shared/hf/llama-3-tiktoken) become the tokenizer.json Hugging Face's
 * converter makes of them (byte-level vocabulary, every two-token split of a token as a merge, ordered by the token's
 * rank, then its pieces'), which encodes every string of tokenizer_cases.json as Hugging Face does; its GGUF metadata
 * then makes llama.cpp (vocab-only) encode them alike, and jtune reading that metadata back too. Qwen2 on a small
 * vocabulary whose merges would cross every split of its regex: llama.cpp and jtune agree on digits (one at a time,
 * where Llama 3 takes three), contractions and punctuation. A tokenizer.ggml.pre jtune does not know is refused by name.
 */
class ByteLevelPreTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void llama3VocabularyThroughGgufEncodesAsHuggingFace() throws Exception {
        JsonNode cases = JSON.readTree(SharedData.require("hf/tokenizer_cases.json").toFile());
        Path dir = tmp.resolve("llama3");
        writeLlama3TokenizerJson(SharedData.require("hf/llama-3-tiktoken").resolve("tokenizer.model"), dir);
        Map<String, String> texts = new HashMap<>();
        for (JsonNode s : cases.get("strings")) texts.put(s.get("id").asText(), s.get("text").asText());
        List<String> texts0 = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("families").get("llama-3-tiktoken").get("cases").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> c = it.next();
            texts0.add(texts.get(c.getKey()));
            expected.add(ints(c.getValue().get("ids_no_special")));
        }
        Map<String, GgufValue> meta = TokenizerToGguf.fromModelFolder(dir);
        assertEquals(GgufValue.string("llama-bpe"), meta.get("tokenizer.ggml.pre"));
        Tokenizer converted = Tokenizer.load(dir), back = GgufToTokenizer.load(new GgufMetadata("test", meta));
        for (int i = 0; i < texts0.size(); i++) {
            assertArrayEquals(expected.get(i), converted.encode(texts0.get(i), false), "the converted tokenizer.json on " + texts0.get(i));
            assertArrayEquals(expected.get(i), back.encode(texts0.get(i), false), "jtune on the GGUF metadata, " + texts0.get(i));
        }
        List<int[]> theirs = llamaCpp(meta, texts0);
        for (int i = 0; i < texts0.size(); i++) {
            assertArrayEquals(expected.get(i), theirs.get(i), "llama.cpp with the llama-bpe metadata on " + texts0.get(i));
        }
        System.out.println("[llama-bpe] Llama 3's 128k vocabulary in GGUF: llama.cpp and jtune encode " + texts0.size()
                + "/" + texts0.size() + " strings as Hugging Face does");
    }

    @Test
    void qwen2DigitsAndContractionsAgreeWithLlamaCpp() throws Exception {
        Path dir = tmp.resolve("qwen2");
        Files.createDirectories(dir);
        Qwen2TokenizerTest.write(dir, List.of("1 2", "12 3", "Ġ w", "Ġw o", "Ġwo r", "Ġwor l", "Ġworl d", "H e", "He l", "Hel l", "Hell o",
                "o Ġ", "' S", "'S Ġ", "! !", "!! Ċ", "d '", "I '", "Ġ 1"), List.of(), "");
        Map<String, GgufValue> meta = TokenizerToGguf.fromModelFolder(dir);
        assertEquals(GgufValue.string("qwen2"), meta.get("tokenizer.ggml.pre"));
        List<String> texts = List.of("123 12345", "Hello world", "I'S !!\n", "Hello world 123 I'S !!\n d'1", "  12\n\n3 ");
        Tokenizer ours = Tokenizer.load(dir), back = GgufToTokenizer.load(new GgufMetadata("test", meta));
        List<int[]> theirs = llamaCpp(meta, texts);
        for (int i = 0; i < texts.size(); i++) {
            int[] want = ours.encode(texts.get(i), false);
            assertArrayEquals(want, theirs.get(i), "llama.cpp with the qwen2 metadata on " + texts.get(i));
            assertArrayEquals(want, back.encode(texts.get(i), false), "jtune on the GGUF metadata, " + texts.get(i));
        }
        assertEquals(3, ours.encode("123", false).length, "one digit at a time, though 1 2 and 12 3 are merges");
    }

    @Test
    void smolLmDigitsAgreeWithLlamaCpp() throws Exception {
        Path dir = tmp.resolve("smollm");
        Files.createDirectories(dir);
        Qwen2TokenizerTest.write(dir, List.of("1 2", "12 3", "Ġ 1", "Ġ w", "Ġw o"), List.of(), "");
        // SmolLM2's pre-tokenizer in place of Qwen2's: single digits, then GPT-2's ByteLevel regex
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(dir.resolve("tokenizer.json").toFile());
        root.putNull("normalizer");
        var pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        pre.putArray("pretokenizers").addObject().put("type", "Digits").put("individual_digits", true);
        pre.withArray("pretokenizers").addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        Map<String, GgufValue> meta = TokenizerToGguf.fromModelFolder(dir);
        assertEquals(GgufValue.string("smollm"), meta.get("tokenizer.ggml.pre"));
        List<String> texts = List.of("123 12345", " 12 wow", "a1b22c333", "I'm 42, you're 7!");
        Tokenizer ours = Tokenizer.load(dir), back = GgufToTokenizer.load(new GgufMetadata("test", meta));
        List<int[]> theirs = llamaCpp(meta, texts);
        for (int i = 0; i < texts.size(); i++) {
            int[] want = ours.encode(texts.get(i), false);
            assertArrayEquals(want, theirs.get(i), "llama.cpp with the smollm metadata on " + texts.get(i));
            assertArrayEquals(want, back.encode(texts.get(i), false), "jtune on the GGUF metadata, " + texts.get(i));
        }
        assertEquals(3, ours.encode("123", false).length, "one digit at a time, though 1 2 and 12 3 are merges");
    }

    @Test
    void anUnknownPreTokenizerIsRefusedByName() throws Exception {
        Path dir = tmp.resolve("q");
        Files.createDirectories(dir);
        Qwen2TokenizerTest.write(dir, List.of(), List.of(), "");
        Map<String, GgufValue> meta = new HashMap<>(TokenizerToGguf.fromModelFolder(dir));
        meta.put("tokenizer.ggml.pre", GgufValue.string("deepseek-coder"));
        JtuneException e = assertThrows(JtuneException.class, () -> GgufToTokenizer.load(new GgufMetadata("test", meta)));
        assertTrue(e.getMessage().contains("\"deepseek-coder\" is a pre-tokenizer jtune does not know"), e.getMessage());
    }

    /** llama.cpp's ids (no BOS, special-token text parsed) for each text, from a weightless GGUF with this tokenizer metadata. */
    private List<int[]> llamaCpp(Map<String, GgufValue> meta, List<String> texts) throws Exception {
        Path peer = LlamaCppPeer.require();
        int vocab = ((String[]) meta.get("tokenizer.ggml.tokens").value()).length;
        Path file = Files.createTempFile(tmp, "vocab", ".gguf");
        new GgufWriter().putAll(GgufNames.Hyperparameters.llama(2048, 64, 1, 128, 8, 8, 10000f, 1e-5f, 8, vocab, 8).toMetadata())
                .putAll(meta).write(file);
        List<Object> requests = new ArrayList<>();
        for (String t : texts) requests.add(Map.of("op", "tokenize", "text", t, "special", true));
        List<int[]> out = new ArrayList<>();
        for (JsonNode a : LlamaCppPeer.ask(peer, file, requests, true)) out.add(LlamaCppPeer.ids(a));
        return out;
    }

    /**
     * The tokenizer.json of a Llama 3 tiktoken file as Hugging Face's converter makes it: token of rank r has id r, spelled in the
     * byte-level alphabet; each split of a token into two tokens is a merge, merges ordered by the merged token's rank and then
     * by the ranks of its left and right pieces; Llama 3's 256 special tokens follow; its split regex and ByteLevel.
     */
    static void writeLlama3TokenizerJson(Path tiktoken, Path dir) throws Exception {
        Map<String, Integer> rank = new HashMap<>();
        List<String> byRank = new ArrayList<>();
        for (String line : Files.readAllLines(tiktoken, StandardCharsets.ISO_8859_1)) {
            if (line.isBlank()) continue;
            String[] p = line.split(" ");
            byte[] bytes = Base64.getDecoder().decode(p[0]);
            StringBuilder s = new StringBuilder();
            for (byte b : bytes) s.append(ByteLevelAlphabet.charOf(b & 0xFF));
            int r = Integer.parseInt(p[1]);
            assertEquals(byRank.size(), r, "ranks are consecutive");
            rank.put(s.toString(), r);
            byRank.add(s.toString());
        }
        List<int[]> merges = new ArrayList<>(); // {merged rank, left rank, right rank, split}
        for (int r = 0; r < byRank.size(); r++) {
            String t = byRank.get(r);
            for (int k = 1; k < t.length(); k++) {
                Integer l = rank.get(t.substring(0, k)), rr = rank.get(t.substring(k));
                if (l != null && rr != null) merges.add(new int[] {r, l, rr, k});
            }
        }
        merges.sort((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : a[1] != b[1] ? Integer.compare(a[1], b[1]) : Integer.compare(a[2], b[2]));
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = JSON.createObjectNode();
        for (int r = 0; r < byRank.size(); r++) vocab.put(byRank.get(r), r);
        List<String> named = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
                "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>",
                "<|python_tag|>", "<|image|>");
        for (int i = 0; i < 256; i++) {
            String s = i < named.size() ? named.get(i) : "<|reserved_special_token_" + (i - named.size() + 2) + "|>";
            int id = byRank.size() + i;
            added.addObject().put("id", id).put("content", s).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
            vocab.put(s, id);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ObjectNode split = pre.putArray("pretokenizers").addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", ByteLevelPreTokenizers.LLAMA3);
        split.put("behavior", "Isolated").put("invert", false);
        pre.withArray("pretokenizers").addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE").put("ignore_merges", true).put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode m = model.putArray("merges");
        for (int[] x : merges) {
            String t = byRank.get(x[0]);
            m.add(t.substring(0, x[3]) + " " + t.substring(x[3]));
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": \"<|eot_id|>\"}");
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
