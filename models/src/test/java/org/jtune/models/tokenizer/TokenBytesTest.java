package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * {@link Tokenizer#tokenBytes}, what structured output checks each token against, against Hugging Face's own
 * decoding (shared/hf/tokenizer_cases.json, every family): the bytes of a case's ids (without added specials),
 * put end to end, are the UTF-8 of the reference decode skipping special tokens — but for the one leading space
 * SentencePiece decoders strip from a text's start. Byte-fallback runs that split a character are covered, as the cases hold emoji and CJK text.
 */
class TokenBytesTest {
    @Test
    void tokenBytesEndToEndAreTheReferenceDecodeOfEveryCase() throws Exception {
        JsonNode cases = new ObjectMapper().readTree(SharedData.require("hf/tokenizer_cases.json").toFile());
        Map<String, String> texts = new HashMap<>();
        for (JsonNode s : cases.get("strings")) texts.put(s.get("id").asText(), s.get("text").asText());
        List<String> mismatches = new ArrayList<>();
        int checks = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("families").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> family = it.next();
            Path dir = SharedData.root().resolve(family.getValue().get("folder").asText().replaceFirst("^shared/", ""));
            Tokenizer tok = Tokenizer.load(dir);
            for (Iterator<Map.Entry<String, JsonNode>> cit = family.getValue().get("cases").fields(); cit.hasNext(); ) {
                Map.Entry<String, JsonNode> c = cit.next();
                boolean plain = c.getValue().has("ids_plain_text");
                JsonNode ids = c.getValue().get(plain ? "ids_plain_text" : "ids_no_special");
                JsonNode decoded = c.getValue().get(plain ? "decode_plain_text" : "decode_no_special_skip_special");
                ByteArrayOutputStream joined = new ByteArrayOutputStream();
                for (JsonNode id : ids) {
                    byte[] b = tok.tokenBytes(id.asInt());
                    if (b != null) joined.writeBytes(b); // special tokens have none (decoded here with skip_special)
                }
                byte[] ours = joined.toByteArray(), reference = decoded.asText().getBytes(StandardCharsets.UTF_8);
                boolean same = Arrays.equals(ours, reference)
                        || (ours.length == reference.length + 1 && ours[0] == ' ' && Arrays.equals(Arrays.copyOfRange(ours, 1, ours.length), reference));
                checks++;
                if (!same) mismatches.add(family.getKey() + " / " + c.getKey() + ": " + new String(ours, StandardCharsets.UTF_8) + " vs " + decoded.asText());
            }
            for (int e : tok.eosIds()) assertTrue(tok.tokenBytes(e) == null || !tok.isSpecial(e), family.getKey() + ": a special end id has no bytes");
        }
        assertTrue(checks > 50, "only " + checks + " cases");
        assertTrue(mismatches.isEmpty(), checks + " cases; mismatches: " + mismatches);
    }
}
