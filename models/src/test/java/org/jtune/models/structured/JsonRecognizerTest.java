package org.jtune.models.structured;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The recognizer against independent references: on any JSON it accepts exactly what Jackson's strict parser
 * accepts (valid texts and thousands of broken variants of them); under a schema it accepts exactly the texts
 * networknt's validator accepts (each table row is checked against both); every prefix of an accepted text
 * stays alive (constrained generation never paints itself into a corner).
 */
class JsonRecognizerTest {
    private static final String[] VALID = {
        "{}", "[]", "0", "-0", "12.5e-3", "1E+9", "true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\uD83D\\uDE00\"", "\"héllo € 😀\"", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
        " { \"a\" : [ 1 , 2 ] , \"b\" : { } }", "[[[]],[{}],\"x\",-1.0e10]", "{\"k\":\"v\",\"K\":\"w\"}",
        "{\n  \"id\": 17,\n\t\"tags\": [\"x\", \"y\"]\n}", "[0.0, 10, -20.25]",
    };

    static boolean accepts(JsonShape shape, byte[] text) {
        JsonRecognizer r = JsonRecognizer.start(shape).advance(text);
        return r != null && r.complete();
    }

    @Test
    void anyValueAcceptsExactlyWhatJacksonParsesStrictly() {
        Random rnd = new Random(7);
        byte[] alphabet = "{}[]\":,.-+eE0123456789 \n\t\\tnrufasl\u00e9x".getBytes(UTF_8);
        List<String> disagreements = new ArrayList<>();
        int checked = 0, valid = 0;
        for (String v : VALID) {
            byte[] base = v.getBytes(UTF_8);
            for (int m = 0; m < 400; m++) {
                byte[] text = m == 0 ? base : mutate(base, alphabet, rnd);
                // trailing whitespace: Jackson allows it, the recognizer ends generation at the value instead
                int end = text.length;
                while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\n' || text[end - 1] == '\t' || text[end - 1] == '\r')) end--;
                text = java.util.Arrays.copyOf(text, end);
                if (!plainWhitespace(text)) continue; // whitespace the recognizer bounds (see the next tests)
                boolean jackson = SchemaOracle.parse(text) != null;
                boolean ours = accepts(JsonShape.ANY, text);
                checked++;
                if (jackson) valid++;
                if (jackson != ours && disagreements.size() < 20) disagreements.add(new String(text, UTF_8) + " jackson=" + jackson + " ours=" + ours);
            }
        }
        assertTrue(disagreements.isEmpty(), checked + " texts; disagreements: " + disagreements);
        assertTrue(valid > VALID.length * 20 && valid < checked - 1000, "the mutations give both kinds: " + valid + " valid of " + checked);
    }

    /** Whether every whitespace run outside strings is one space or a newline and at most MAX_INDENT spaces or tabs. */
    private static boolean plainWhitespace(byte[] text) {
        boolean inString = false, escaped = false;
        for (int i = 0; i < text.length; i++) {
            byte b = text[i];
            if (inString) {
                if (escaped) escaped = false;
                else if (b == '\\') escaped = true;
                else if (b == '"') inString = false;
                continue;
            }
            if (b == '"') inString = true;
            if (b != ' ' && b != '\n' && b != '\t' && b != '\r') continue;
            int j = i;
            while (j < text.length && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t' || text[j] == '\r')) j++;
            String run = new String(text, i, j - i, UTF_8);
            if (!run.equals(" ") && !run.matches("\n[ \t]{0," + JsonRecognizer.MAX_INDENT + "}")) return false;
            i = j - 1;
        }
        return true;
    }

    private static byte[] mutate(byte[] base, byte[] alphabet, Random rnd) {
        byte[] t = base.clone();
        int edits = 1 + rnd.nextInt(2);
        for (int e = 0; e < edits; e++) {
            int at = rnd.nextInt(t.length + 1);
            byte c = alphabet[rnd.nextInt(alphabet.length)];
            switch (rnd.nextInt(3)) {
                case 0 -> { // insert
                    byte[] n = new byte[t.length + 1];
                    System.arraycopy(t, 0, n, 0, at);
                    n[at] = c;
                    System.arraycopy(t, at, n, at + 1, t.length - at);
                    t = n;
                }
                case 1 -> { // delete
                    if (t.length > 1 && at < t.length) {
                        byte[] n = new byte[t.length - 1];
                        System.arraycopy(t, 0, n, 0, at);
                        System.arraycopy(t, at + 1, n, at, t.length - at - 1);
                        t = n;
                    }
                }
                default -> {
                    if (at < t.length) t[at] = c;
                }
            }
        }
        return t;
    }

    @Test
    void everyPrefixOfAValidTextIsAlive() {
        for (String v : VALID) {
            byte[] text = v.getBytes(UTF_8);
            JsonRecognizer r = JsonRecognizer.start(JsonShape.ANY);
            for (int i = 0; i < text.length; i++) {
                r = r.advance(text[i] & 0xFF);
                assertNotNull(r, v + ": refused after " + i + " bytes");
            }
            assertTrue(r.complete(), v);
        }
    }

    /** Schema, texts it accepts, texts it refuses: each row is checked against the validator first. */
    private record Case(String schema, List<String> valid, List<String> invalid) {}

    private static final List<Case> CASES = List.of(
            new Case("""
                    {"type":"object","properties":{"label":{"enum":["billing","card","refund"]},"urgent":{"type":"boolean"},
                     "note":{"type":["string","null"],"maxLength":5}},"required":["label","urgent"],"additionalProperties":false}""",
                    List.of("{\"label\":\"card\",\"urgent\":true}", "{ \"urgent\" : false , \"label\" : \"refund\" , \"note\" : null }",
                            "{\"label\":\"billing\",\"urgent\":false,\"note\":\"héllo\"}", "{\"label\":\"card\",\"note\":\"\",\"urgent\":true}"),
                    List.of("{\"label\":\"cards\",\"urgent\":true}", "{\"label\":\"card\"}", "{\"label\":\"card\",\"urgent\":1}",
                            "{\"label\":\"card\",\"urgent\":true,\"x\":1}", "{\"label\":\"card\",\"urgent\":true,\"note\":\"toolong\"}",
                            "{\"label\":\"card\",\"label\":\"card\",\"urgent\":true}", "[]")),
            new Case("""
                    {"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3}""",
                    List.of("[1,2]", "[-5, 0, 17]", "[ 10 ,20 ]"),
                    List.of("[1]", "[1,2,3,4]", "[1.5,2]", "[01,2]", "[]")),
            new Case("""
                    {"type":"object","properties":{"name":{"type":"string","minLength":2}},"required":["name"]}""",
                    List.of("{\"name\":\"ab\"}", "{\"name\":\"ab\",\"extra\":[1,{\"x\":null}]}", "{\"other\":1,\"name\":\"\\u00e9\\n\"}"),
                    List.of("{\"name\":\"a\"}", "{\"name\":2}", "{\"extra\":1}", "{\"name\":\"ab\",\"name\":\"cd\"}")),
            new Case("""
                    {"$defs":{"node":{"type":"object","properties":{"v":{"type":"number"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},
                     "required":["v"],"additionalProperties":false}},"$ref":"#/$defs/node"}""",
                    List.of("{\"v\":1}", "{\"v\":-2.5,\"kids\":[{\"v\":3},{\"v\":4,\"kids\":[]}]}"),
                    List.of("{\"kids\":[]}", "{\"v\":1,\"kids\":[{\"w\":1}]}", "{\"v\":\"1\"}")),
            new Case("""
                    {"anyOf":[{"type":"object","properties":{"a":{"const":1}},"required":["a"],"additionalProperties":false},
                              {"type":"object","properties":{"a":{"const":12},"b":{"type":"string"}},"required":["a","b"],"additionalProperties":false},
                              {"enum":[1, 12, "x"]}]}""",
                    List.of("{\"a\":1}", "{\"a\":12,\"b\":\"\"}", "1", "12", "\"x\""),
                    List.of("{\"a\":12}", "{\"a\":1,\"b\":\"\"}", "2", "121", "\"y\"")));

    @Test
    void underASchemaItAcceptsExactlyWhatTheValidatorAccepts() {
        for (Case c : CASES) {
            JsonShape shape = JsonShape.compile(SchemaOracle.json(c.schema()));
            for (String v : c.valid()) {
                assertTrue(SchemaOracle.valid(c.schema(), v.getBytes(UTF_8)), "test data: the validator refuses " + v);
                assertTrue(accepts(shape, v.getBytes(UTF_8)), c.schema() + "\n refuses " + v);
            }
            for (String v : c.invalid()) {
                assertFalse(SchemaOracle.valid(c.schema(), v.getBytes(UTF_8)), "test data: the validator accepts " + v);
                assertFalse(accepts(shape, v.getBytes(UTF_8)), c.schema() + "\n accepts " + v);
            }
        }
    }

    @Test
    void integersAreWrittenInDigitsAndCountedStringsWithoutSurrogateEscapes() {
        // JSON Schema counts 2e3 and 1.0 as integers; generation writes integers the plain way, a subset
        JsonShape integers = JsonShape.compile(SchemaOracle.json("{\"type\":\"integer\"}"));
        assertTrue(SchemaOracle.valid("{\"type\":\"integer\"}", "2e3".getBytes(UTF_8)));
        assertFalse(accepts(integers, "2e3".getBytes(UTF_8)));
        assertTrue(accepts(integers, "-2000".getBytes(UTF_8)));
        // a length-bounded string counts a character when it starts, so a bound never leaves an escape half-written
        String bounded = "{\"type\":\"string\",\"minLength\":2,\"maxLength\":2}";
        JsonShape two = JsonShape.compile(SchemaOracle.json(bounded));
        for (String ok : List.of("\"ab\"", "\"\\n\\u00e9\"", "\"😀é\"")) {
            assertTrue(SchemaOracle.valid(bounded, ok.getBytes(UTF_8)) && accepts(two, ok.getBytes(UTF_8)), ok);
        }
        assertFalse(accepts(two, "\"\\uD83D\\uDE00\"".getBytes(UTF_8)));
        assertEquals(null, JsonRecognizer.start(two).advance("\"ab\\".getBytes(UTF_8)));
    }

    @Test
    void stringsTakeExactlyTheUtf8ThatAStrictDecoderTakes() throws Exception {
        // every lead byte with every second byte, padded with continuation bytes to the longest form: overlong forms,
        // surrogates (ED A0..BF) and code points past U+10FFFF (F4 90.., F5..) are refused as a strict decoder refuses them
        JsonShape string = JsonShape.compile(SchemaOracle.json("{\"type\":\"string\"}"));
        int checked = 0;
        for (int b1 = 0x80; b1 <= 0xFF; b1++) {
            for (int b2 = 0; b2 <= 0xFF; b2++) {
                for (int pad = 0; pad <= 2; pad++) {
                    byte[] text = new byte[4 + pad];
                    text[0] = '"';
                    text[1] = (byte) b1;
                    text[2] = (byte) b2;
                    for (int i = 0; i < pad; i++) text[3 + i] = (byte) 0x80;
                    text[text.length - 1] = '"';
                    boolean strict;
                    try {
                        java.nio.charset.StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                                .decode(java.nio.ByteBuffer.wrap(text));
                        strict = b2 >= 0x20 && b2 != '"' && b2 != '\\';
                    } catch (java.nio.charset.CharacterCodingException e) {
                        strict = false;
                    }
                    assertEquals(strict, accepts(string, text), String.format("%02X %02X + %d continuation bytes", b1, b2, pad));
                    checked++;
                }
            }
        }
        assertEquals(128 * 256 * 3, checked);
    }

    @Test
    void whatCannotBeEnforcedIsRefusedWithItsPath() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonShape.compile(SchemaOracle.json(
                "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"pattern\":\"^[A-Z]+$\"}}}")));
        assertTrue(e.getMessage().contains("/properties/id") && e.getMessage().contains("\"pattern\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonShape.compile(SchemaOracle.json("{\"$ref\":\"http://example.com/s.json\"}")));
        assertTrue(e.getMessage().contains("http://example.com/s.json"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JsonShape.compile(SchemaOracle.json("{\"type\":\"decimal\"}")));
        assertTrue(e.getMessage().contains("/type") && e.getMessage().contains("decimal"), e.getMessage());
        // annotations are not constraints
        JsonShape.compile(SchemaOracle.json("{\"title\":\"T\",\"description\":\"d\",\"type\":\"integer\",\"examples\":[1]}"));
    }

    @Test
    void whitespaceRunsAndNumbersAreBoundedSoAModelCannotLoop() {
        String indent = " ".repeat(JsonRecognizer.MAX_INDENT);
        assertTrue(accepts(JsonShape.ANY, ("[\n" + indent + "1,\n\t2, 3 ]").getBytes(UTF_8)));
        assertFalse(accepts(JsonShape.ANY, ("[\n" + indent + " 1]").getBytes(UTF_8)));
        for (String loose : List.of("[  1]", "[\n\n1]", "[\t1]", "[ \n1]", "{\"a\"  :1}")) assertFalse(accepts(JsonShape.ANY, loose.getBytes(UTF_8)), loose);
        String digits = "1".repeat(JsonRecognizer.MAX_NUMBER);
        assertTrue(accepts(JsonShape.ANY, digits.getBytes(UTF_8)));
        assertFalse(accepts(JsonShape.ANY, (digits + "1").getBytes(UTF_8)));
        // nothing after the value, not even whitespace: generation ends there
        assertFalse(accepts(JsonShape.ANY, "{} ".getBytes(UTF_8)));
        JsonRecognizer closed = JsonRecognizer.start(JsonShape.ANY).advance("{}".getBytes(UTF_8));
        assertFalse(closed.canContinue());
        assertEquals(closed, JsonRecognizer.start(JsonShape.ANY).advance("{}".getBytes(UTF_8)));
    }
}
