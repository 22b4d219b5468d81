package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * Acceptance against shared/hf/tokenizer_cases.json (expected outputs of Hugging Face tokenizers, tiktoken
 * and apply_chat_template): for every family and string, both encodings, the token strings, all decode
 * variants, and every rendered chat prompt with its ids, tokens and decoding. Every mismatch is reported,
 * not just the first.
 */
class TokenizerCasesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyFamilyMatchesTheReference() throws Exception {
        Path casesFile = SharedData.require("hf/tokenizer_cases.json");
        JsonNode cases = JSON.readTree(casesFile.toFile());
        Map<String, String> texts = new HashMap<>();
        for (JsonNode s : cases.get("strings")) texts.put(s.get("id").asText(), s.get("text").asText());
        Map<String, JsonNode> conversations = new HashMap<>();
        for (JsonNode c : cases.get("conversations")) conversations.put(c.get("id").asText(), c.get("messages"));

        List<String> mismatches = new ArrayList<>();
        int checks = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("families").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> family = it.next();
            String name = family.getKey();
            Path dir = SharedData.root().resolve(family.getValue().get("folder").asText().replaceFirst("^shared/", ""));
            Tokenizer tok = Tokenizer.load(dir);
            for (Iterator<Map.Entry<String, JsonNode>> cit = family.getValue().get("cases").fields(); cit.hasNext(); ) {
                Map.Entry<String, JsonNode> c = cit.next();
                String where = name + " / " + c.getKey();
                String text = texts.get(c.getKey());
                JsonNode exp = c.getValue();
                Encoding withSpecial = tok.encodeWithTokens(text, true);
                Encoding noSpecial = tok.encodeWithTokens(text, false);
                checks += compareIds(mismatches, where + " ids_default", exp.get("ids_default"), withSpecial.ids());
                checks += compareIds(mismatches, where + " ids_no_special", exp.get("ids_no_special"), noSpecial.ids());
                checks += compareIds(mismatches, where + " ids_plain_text", exp.get("ids_plain_text"), tok.encodePlain(text));
                checks += compareTokens(mismatches, where + " tokens_default", exp.get("tokens_default"), withSpecial.tokens());
                checks += compareTokens(mismatches, where + " tokens_no_special", exp.get("tokens_no_special"), noSpecial.tokens());
                checks += compareDecode(mismatches, tok, where, exp, "decode_default", "ids_default", false);
                checks += compareDecode(mismatches, tok, where, exp, "decode_default_skip_special", "ids_default", true);
                checks += compareDecode(mismatches, tok, where, exp, "decode_no_special", "ids_no_special", false);
                checks += compareDecode(mismatches, tok, where, exp, "decode_no_special_skip_special", "ids_no_special", true);
                checks += compareDecode(mismatches, tok, where, exp, "decode_plain_text", "ids_plain_text", false);
            }
            JsonNode chats = family.getValue().get("chat");
            if (chats == null || chats.isEmpty()) continue;
            ChatTemplate template = ChatTemplate.load(dir);
            for (JsonNode chat : chats) {
                String where = name + " / chat " + chat.get("conversation_id").asText() + " gen=" + chat.get("add_generation_prompt").asBoolean();
                List<Message> messages = new ArrayList<>();
                for (JsonNode m : conversations.get(chat.get("conversation_id").asText())) messages.add(Message.fromJson(m));
                String rendered;
                try {
                    rendered = template.render(messages, chat.get("add_generation_prompt").asBoolean(), Map.of());
                } catch (org.jtune.JtuneException e) {
                    mismatches.add(where + " render failed: " + e.getMessage());
                    continue;
                }
                checks++;
                if (!rendered.equals(chat.get("rendered").asText())) {
                    mismatches.add(where + " rendered\n    expected " + JSON.writeValueAsString(chat.get("rendered").asText())
                            + "\n    actual   " + JSON.writeValueAsString(rendered));
                }
                Encoding enc = tok.encodeWithTokens(chat.get("rendered").asText(), false);
                checks += compareIds(mismatches, where + " ids", chat.get("ids"), enc.ids());
                checks += compareTokens(mismatches, where + " tokens", chat.get("tokens"), enc.tokens());
                checks++;
                String decoded = tok.decode(ids(chat.get("ids")), false);
                if (!decoded.equals(chat.get("decode").asText())) {
                    mismatches.add(where + " decode\n    expected " + JSON.writeValueAsString(chat.get("decode").asText())
                            + "\n    actual   " + JSON.writeValueAsString(decoded));
                }
            }
        }
        System.err.println("tokenizer_cases.json: " + checks + " checks, " + mismatches.size() + " mismatches");
        assertTrue(checks > 0, "no case was checked");
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches against " + casesFile + ":\n" + String.join("\n", mismatches));
    }

    private static int[] ids(JsonNode list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = list.get(i).asInt();
        return out;
    }

    private static int compareIds(List<String> mismatches, String where, JsonNode expected, int[] actual) {
        if (expected == null) return 0;
        if (!Arrays.equals(ids(expected), actual)) {
            mismatches.add(where + "\n    expected " + Arrays.toString(ids(expected)) + "\n    actual   " + Arrays.toString(actual));
        }
        return 1;
    }

    private static int compareTokens(List<String> mismatches, String where, JsonNode expected, List<String> actual) throws Exception {
        if (expected == null) return 0;
        List<String> exp = new ArrayList<>();
        for (JsonNode t : expected) exp.add(t.asText());
        if (!exp.equals(actual)) {
            mismatches.add(where + "\n    expected " + JSON.writeValueAsString(exp) + "\n    actual   " + JSON.writeValueAsString(actual));
        }
        return 1;
    }

    private static int compareDecode(List<String> mismatches, Tokenizer tok, String where, JsonNode exp, String field,
                                     String idsField, boolean skipSpecial) throws Exception {
        if (exp.get(field) == null || exp.get(idsField) == null) return 0;
        String actual = tok.decode(ids(exp.get(idsField)), skipSpecial);
        if (!actual.equals(exp.get(field).asText())) {
            mismatches.add(where + " " + field + "\n    expected " + JSON.writeValueAsString(exp.get(field).asText())
                    + "\n    actual   " + JSON.writeValueAsString(actual));
        }
        return 1;
    }
}
