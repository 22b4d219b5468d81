package org.jtune.models.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What a JSON value may be, compiled from a JSON Schema for constrained generation ({@link JsonRecognizer}).
 * The subset is the one structured-output APIs accept (OpenAI's strict mode, Pydantic's schemas): {@code type}
 * (one or a list), {@code properties}, {@code required}, {@code additionalProperties} (boolean or schema; absent
 * means any extra key, as JSON Schema says), {@code items}, {@code minItems}, {@code maxItems}, {@code minLength},
 * {@code maxLength}, {@code enum}, {@code const}, {@code anyOf}, {@code oneOf} (read as anyOf), a one-element
 * {@code allOf}, and {@code $ref} to {@code #/$defs/…} or {@code #/definitions/…} (recursion allowed). Annotations
 * (title, description, default, examples, …) are ignored. Any other keyword — {@code pattern}, {@code format},
 * {@code minimum}, … — is refused with its path rather than left unenforced: output that claims to follow a
 * schema must follow all of it.
 */
public sealed interface JsonShape {
    /** Any JSON value. */
    record AnyValue() implements JsonShape {}

    /**
     * An object. {@code keys} holds each declared property's name as it appears between the quotes (JSON-escaped
     * UTF-8, as ISO-8859-1 chars so equal names compare equal); {@code additional} is the shape of other keys'
     * values, or null when no other key may appear. Equal by identity, as {@link ArrayShape} and {@link Union}: a
     * recognizer state is hashed at every token, and a compiled schema has one object per place.
     */
    final class ObjectShape implements JsonShape {
        private final Map<String, JsonShape> keys;
        private final Set<String> required;
        private final JsonShape additional;

        ObjectShape(Map<String, JsonShape> keys, Set<String> required, JsonShape additional) {
            this.keys = keys;
            this.required = required;
            this.additional = additional;
        }

        Map<String, JsonShape> keys() {
            return keys;
        }

        Set<String> required() {
            return required;
        }

        JsonShape additional() {
            return additional;
        }
    }

    /** An array of items; maxItems −1 = no bound. */
    final class ArrayShape implements JsonShape {
        private final JsonShape items;
        private final int minItems, maxItems;

        ArrayShape(JsonShape items, int minItems, int maxItems) {
            this.items = items;
            this.minItems = minItems;
            this.maxItems = maxItems;
        }

        JsonShape items() {
            return items;
        }

        int minItems() {
            return minItems;
        }

        int maxItems() {
            return maxItems;
        }
    }

    /** A string of minLength to maxLength characters (code points; −1 = no bound; an escape is one character). */
    record StringShape(int minLength, int maxLength) implements JsonShape {}

    /** A JSON number; {@code integer}: digits only, no fraction or exponent. */
    record NumberShape(boolean integer) implements JsonShape {}

    /** One of these exact JSON texts (enum, const, true/false, null), each as ISO-8859-1 chars of its UTF-8. */
    record Literals(List<String> texts) implements JsonShape {}

    /** Any of these shapes. */
    final class Union implements JsonShape {
        private final List<JsonShape> options;

        Union(List<JsonShape> options) {
            this.options = options;
        }

        List<JsonShape> options() {
            return options;
        }
    }

    /** A {@code $ref}, resolved when first entered (so schemas may refer to themselves). */
    final class Ref implements JsonShape {
        private final String pointer;
        private final Supplier<JsonShape> target;
        private JsonShape resolved;

        Ref(String pointer, Supplier<JsonShape> target) {
            this.pointer = pointer;
            this.target = target;
        }

        synchronized JsonShape resolve() {
            if (resolved == null) resolved = target.get();
            return resolved;
        }

        @Override
        public String toString() {
            return "$ref " + pointer;
        }
    }

    AnyValue ANY = new AnyValue();

    /** The shape {"type": "object"} with nothing more: any JSON object (OpenAI's response_format json_object). */
    ObjectShape ANY_OBJECT = new ObjectShape(Map.of(), Set.of(), ANY);
    ArrayShape ANY_ARRAY = new ArrayShape(ANY, 0, -1);
    StringShape ANY_STRING = new StringShape(0, -1);
    NumberShape ANY_NUMBER = new NumberShape(false);
    Literals BOOLEANS = new Literals(List.of("true", "false"));
    Literals NULL = new Literals(List.of("null"));

    /** Compiles a JSON Schema; an {@link IllegalArgumentException} names the path of what it cannot enforce. */
    static JsonShape compile(JsonNode schema) {
        return new Compiler(schema).compile(schema, "");
    }

    /** The JSON text of a value as the recognizer compares it: its UTF-8 bytes as ISO-8859-1 chars. */
    static String latin1(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    final class Compiler {
        private static final ObjectMapper JSON = new ObjectMapper();
        private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
                "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
        private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");

        private final JsonNode root;
        private final Map<String, Ref> refs = new HashMap<>();

        private Compiler(JsonNode root) {
            this.root = root;
        }

        JsonShape compile(JsonNode s, String path) {
            if (s.isBoolean()) {
                if (s.booleanValue()) return ANY;
                throw unsupported(path, "the schema false (no value matches it)");
            }
            if (!s.isObject()) throw new IllegalArgumentException(where(path) + "a schema must be an object or a boolean, got " + s.getNodeType());
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!ANNOTATIONS.contains(k) && !known(k)) throw unsupported(path, "the keyword \"" + k + "\"");
            }
            if (s.has("$ref")) {
                if (s.size() > 1 && hasConstraintBeside(s, "$ref")) throw unsupported(path, "keywords beside \"$ref\"");
                return ref(s.get("$ref").asText(), path);
            }
            if (s.has("const")) return new Literals(List.of(text(s.get("const"))));
            if (s.has("enum")) {
                JsonNode values = s.get("enum");
                if (!values.isArray() || values.isEmpty()) throw new IllegalArgumentException(where(path + "/enum") + "enum must be a non-empty array");
                List<String> texts = new ArrayList<>();
                for (JsonNode v : values) texts.add(text(v));
                return new Literals(List.copyOf(new LinkedHashSet<>(texts)));
            }
            for (String union : List.of("anyOf", "oneOf")) {
                if (s.has(union)) {
                    JsonNode options = s.get(union);
                    if (!options.isArray() || options.isEmpty()) throw new IllegalArgumentException(where(path + "/" + union) + union + " must be a non-empty array");
                    List<JsonShape> shapes = new ArrayList<>();
                    for (int i = 0; i < options.size(); i++) shapes.add(compile(options.get(i), path + "/" + union + "/" + i));
                    return shapes.size() == 1 ? shapes.getFirst() : new Union(List.copyOf(shapes));
                }
            }
            if (s.has("allOf")) {
                JsonNode all = s.get("allOf");
                if (!all.isArray() || all.size() != 1) throw unsupported(path + "/allOf", "allOf with other than one schema");
                return compile(all.get(0), path + "/allOf/0");
            }
            JsonNode type = s.get("type");
            if (type == null) {
                if (s.has("properties") || s.has("required") || s.has("additionalProperties")) return typed(s, "object", path);
                if (s.has("items") || s.has("minItems") || s.has("maxItems")) return typed(s, "array", path);
                if (s.has("minLength") || s.has("maxLength")) return typed(s, "string", path);
                return ANY;
            }
            if (type.isTextual()) return typed(s, type.asText(), path);
            if (!type.isArray() || type.isEmpty()) throw new IllegalArgumentException(where(path + "/type") + "type must be a string or a non-empty array of strings");
            List<JsonShape> shapes = new ArrayList<>();
            for (JsonNode t : type) shapes.add(typed(s, t.asText(), path));
            return shapes.size() == 1 ? shapes.getFirst() : new Union(List.copyOf(shapes));
        }

        private static boolean known(String k) {
            return switch (k) {
                case "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength",
                     "maxLength", "enum", "const", "anyOf", "oneOf", "allOf", "$ref" -> true;
                default -> false;
            };
        }

        private static boolean hasConstraintBeside(JsonNode s, String keyword) {
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) return true;
            }
            return false;
        }

        private JsonShape typed(JsonNode s, String type, String path) {
            if (!TYPES.contains(type)) throw new IllegalArgumentException(where(path + "/type") + "unknown type \"" + type + "\"");
            return switch (type) {
                case "object" -> object(s, path);
                case "array" -> new ArrayShape(s.has("items") ? compile(s.get("items"), path + "/items") : ANY,
                        count(s, "minItems", 0, path), count(s, "maxItems", -1, path));
                case "string" -> new StringShape(count(s, "minLength", 0, path), count(s, "maxLength", -1, path));
                case "number" -> new NumberShape(false);
                case "integer" -> new NumberShape(true);
                case "boolean" -> BOOLEANS;
                default -> NULL;
            };
        }

        private JsonShape object(JsonNode s, String path) {
            Map<String, JsonShape> keys = new LinkedHashMap<>();
            JsonNode props = s.get("properties");
            if (props != null) {
                if (!props.isObject()) throw new IllegalArgumentException(where(path + "/properties") + "properties must be an object");
                for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    keys.put(keyText(e.getKey()), compile(e.getValue(), path + "/properties/" + e.getKey()));
                }
            }
            Set<String> required = new LinkedHashSet<>();
            JsonNode req = s.get("required");
            if (req != null) {
                if (!req.isArray()) throw new IllegalArgumentException(where(path + "/required") + "required must be an array of names");
                for (JsonNode r : req) {
                    String k = keyText(r.asText());
                    if (!keys.containsKey(k) && s.path("additionalProperties").isBoolean() && !s.get("additionalProperties").booleanValue()) {
                        throw new IllegalArgumentException(where(path + "/required") + "\"" + r.asText() + "\" is required but not among the properties");
                    }
                    required.add(k);
                }
            }
            JsonNode extra = s.get("additionalProperties");
            JsonShape additional = extra == null ? ANY : extra.isBoolean() ? (extra.booleanValue() ? ANY : null) : compile(extra, path + "/additionalProperties");
            return new ObjectShape(keys, Set.copyOf(required), additional);
        }

        private JsonShape ref(String pointer, String path) {
            Ref known = refs.get(pointer);
            if (known != null) return known;
            String name;
            JsonNode defs;
            if (pointer.startsWith("#/$defs/")) {
                name = pointer.substring("#/$defs/".length());
                defs = root.get("$defs");
            } else if (pointer.startsWith("#/definitions/")) {
                name = pointer.substring("#/definitions/".length());
                defs = root.get("definitions");
            } else if (pointer.equals("#")) {
                name = null;
                defs = null;
            } else {
                throw unsupported(path + "/$ref", "the reference \"" + pointer + "\" (only #, #/$defs/NAME and #/definitions/NAME)");
            }
            JsonNode target = name == null ? root : defs == null ? null : defs.get(name);
            if (target == null) throw new IllegalArgumentException(where(path + "/$ref") + "\"" + pointer + "\" names no definition");
            String targetPath = name == null ? "" : pointer.substring(1);
            Ref ref = new Ref(pointer, () -> compile(target, targetPath));
            refs.put(pointer, ref);
            ref.resolve(); // compile now so every unsupported keyword is reported before generation starts
            return ref;
        }

        private static int count(JsonNode s, String keyword, int absent, String path) {
            JsonNode v = s.get(keyword);
            if (v == null) return absent;
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
                throw new IllegalArgumentException(where(path + "/" + keyword) + keyword + " must be a non-negative integer");
            }
            return v.intValue();
        }

        private static String text(JsonNode value) {
            try {
                return latin1(JSON.writeValueAsString(value));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(e.getOriginalMessage(), e);
            }
        }

        /** A property name as it appears between its quotes in compact JSON. */
        private static String keyText(String name) {
            String quoted = text(JSON.getNodeFactory().textNode(name));
            return quoted.substring(1, quoted.length() - 1);
        }

        private static String where(String path) {
            return "schema at " + (path.isEmpty() ? "/" : path) + ": ";
        }

        private static IllegalArgumentException unsupported(String path, String what) {
            return new IllegalArgumentException(where(path) + what + " is not supported by constrained generation "
                    + "(supported: type, properties, required, additionalProperties, items, minItems, maxItems, minLength, "
                    + "maxLength, enum, const, anyOf, oneOf, allOf of one schema, $ref to #/$defs)");
        }
    }
}
