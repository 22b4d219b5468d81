package org.jtune.eval.extraction;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Reading a model's structured answer and comparing JSON values. An answer may be wrapped in a Markdown
 * code fence (```json ... ```), which is removed before parsing. Two values are equal when: numbers are
 * numerically equal (1 == 1.0); strings are equal after trimming and case-folding; booleans and null are
 * identical; arrays are equal element by element in order; objects have the same keys with equal values.
 */
public final class JsonAnswer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonAnswer() {
    }

    /** The parsed answer, or null when it is not valid JSON. */
    public static JsonNode parse(String text) {
        String t = text.strip();
        if (t.startsWith("```")) {
            int nl = t.indexOf('\n');
            int end = t.lastIndexOf("```");
            if (nl > 0 && end > nl) t = t.substring(nl + 1, end).strip();
        }
        if (t.isEmpty()) return null;
        try {
            return JSON.readTree(t);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    public static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        if (a.isTextual() && b.isTextual()) {
            return a.asText().strip().toLowerCase(Locale.ROOT).equals(b.asText().strip().toLowerCase(Locale.ROOT));
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) return false;
            for (int i = 0; i < a.size(); i++) if (!same(a.get(i), b.get(i))) return false;
            return true;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) return false;
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!same(e.getValue(), b.get(e.getKey()))) return false;
            }
            return true;
        }
        return a.equals(b);
    }
}
