package org.jtune.models.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.models.io.StrictJson;

/**
 * Typed access to the fields of one config.json object for the families' config parsers: each
 * getter checks the JSON type and every error is a {@link JtuneException} that names the file and
 * the field ({@code rope_scaling.factor} inside a nested object). Also the two things every parser
 * shares: parsing the text under {@link StrictJson}'s bounds, keeping the keys a record does not
 * model, and writing a config back the way Hugging Face does (sorted keys, two-space indent).
 */
public final class ConfigFields {
    private final JsonNode root;
    private final String source;
    private final String prefix;

    public ConfigFields(JsonNode root, String source) {
        this(root, source, "");
    }

    private ConfigFields(JsonNode root, String source, String prefix) {
        this.root = root;
        this.source = source;
        this.prefix = prefix;
    }

    /** Parses config.json text; {@code source} (the file) starts every error. */
    public static ConfigFields parse(String json, String source) throws JtuneException {
        JsonNode root;
        try {
            root = StrictJson.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new JtuneException(source + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new JtuneException(source + ": config is not a JSON object");
        return new ConfigFields(root, source);
    }

    public JsonNode root() {
        return root;
    }

    public String source() {
        return source;
    }

    /** The fields of the nested object {@code field}, or null when it is absent or null. */
    public ConfigFields object(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isObject()) throw error(field, "must be null or an object, found " + brief(n));
        return new ConfigFields(n, source, prefix + field + ".");
    }

    public boolean has(String field) {
        return get(field) != null;
    }

    public JtuneException error(String field, String what) {
        return new JtuneException(source + ": field \"" + prefix + field + "\": " + what);
    }

    private JsonNode get(String field) {
        JsonNode n = root.get(field);
        return n == null || n.isNull() ? null : n;
    }

    public Integer integer(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw error(field, "must be an integer, found " + brief(n));
        return n.intValue();
    }

    public int integer(String field, int fallback) throws JtuneException {
        Integer v = integer(field);
        return v == null ? fallback : v;
    }

    public int requiredInt(String field) throws JtuneException {
        Integer v = integer(field);
        if (v == null) throw new JtuneException(source + ": missing required field \"" + prefix + field + "\"");
        return v;
    }

    public Double number(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isNumber()) throw error(field, "must be a number, found " + brief(n));
        return n.doubleValue();
    }

    public double number(String field, double fallback) throws JtuneException {
        Double v = number(field);
        return v == null ? fallback : v;
    }

    public double requiredNumber(String field) throws JtuneException {
        Double v = number(field);
        if (v == null) throw new JtuneException(source + ": missing required field \"" + prefix + field + "\"");
        return v;
    }

    /** A list of numbers, or null when absent. */
    public List<Double> numbers(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isArray()) throw error(field, "must be a list of numbers, found " + brief(n));
        List<Double> out = new ArrayList<>();
        for (JsonNode v : n) {
            if (!v.isNumber()) throw error(field, "must be a list of numbers, found " + brief(v) + " in it");
            out.add(v.doubleValue());
        }
        return out;
    }

    /** A list of integers, or null when absent. */
    public List<Integer> integers(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isArray()) throw error(field, "must be a list of integers, found " + brief(n));
        List<Integer> out = new ArrayList<>();
        for (JsonNode v : n) {
            if (!v.isIntegralNumber() || !v.canConvertToInt()) throw error(field, "must be a list of integers, found " + brief(v) + " in it");
            out.add(v.intValue());
        }
        return out;
    }

    /** A list of strings, or null when absent. */
    public List<String> strings(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isArray()) throw error(field, "must be a list of strings, found " + brief(n));
        List<String> out = new ArrayList<>();
        for (JsonNode v : n) {
            if (!v.isTextual()) throw error(field, "must be a list of strings, found " + brief(v) + " in it");
            out.add(v.asText());
        }
        return out;
    }

    public Boolean bool(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isBoolean()) throw error(field, "must be true or false, found " + brief(n));
        return n.booleanValue();
    }

    public boolean bool(String field, boolean fallback) throws JtuneException {
        Boolean v = bool(field);
        return v == null ? fallback : v;
    }

    public String string(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isTextual()) throw error(field, "must be a string, found " + brief(n));
        return n.asText();
    }

    /** A token id or a list of them (null or absent: none). */
    public List<Integer> ids(String field) throws JtuneException {
        JsonNode n = get(field);
        if (n == null) return List.of();
        List<Integer> out = new ArrayList<>();
        for (JsonNode v : n.isArray() ? n : List.of(n)) {
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                throw error(field, "must be a token id or a list of token ids, found " + brief(n));
            }
            out.add(v.intValue());
        }
        return out;
    }

    /**
     * The single "architectures" entry, which must be one of {@code supported}; when the field is
     * absent, {@code fromModelType} names the architecture of the config's model_type (null: unknown).
     */
    public String architecture(List<String> supported, String fromModelType) throws JtuneException {
        JsonNode arch = root.get("architectures");
        if (arch == null || arch.isNull()) {
            if (fromModelType != null) return fromModelType;
            String type = string("model_type");
            throw error("architectures", "missing, and model_type " + (type == null ? "is missing too" : "\"" + type + "\" is not known"));
        }
        if (!arch.isArray() || arch.isEmpty()) throw error("architectures", "must be a non-empty list of class names");
        String name = null;
        for (JsonNode n : arch) {
            if (!n.isTextual()) throw error("architectures", "must hold strings, found " + brief(n));
            if (!supported.contains(n.asText())) {
                throw error("architectures", n.asText() + " is not supported (supported: " + String.join(", ", supported) + ")");
            }
            if (name != null && !name.equals(n.asText())) throw error("architectures", "names several architectures " + arch);
            name = n.asText();
        }
        return name;
    }

    /** Every top-level key not in {@code modelled}, in JSON form (maps, lists, strings, numbers, booleans, nulls). */
    public Map<String, Object> extra(Set<String> modelled) {
        Map<String, Object> extra = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (!modelled.contains(e.getKey())) extra.put(e.getKey(), StrictJson.mapper().convertValue(e.getValue(), Object.class));
        }
        return extra;
    }

    /** config.json text as Hugging Face writes it: keys sorted at every depth, two-space indent, a final newline. */
    public static String write(Map<String, Object> config) {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        printer.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);
        try {
            return StrictJson.mapper().writer(printer).writeValueAsString(sortedDeep(config)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise config", e);
        }
    }

    /** config.json's form of token ids: null for none, a number for one, else a list. */
    public static Object ids(List<Integer> ids) {
        return ids.isEmpty() ? null : ids.size() == 1 ? ids.getFirst() : ids;
    }

    private static Object sortedDeep(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> s = new TreeMap<>();
            m.forEach((k, v) -> s.put(String.valueOf(k), sortedDeep(v)));
            return s;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object v : l) out.add(sortedDeep(v));
            return out;
        }
        return o;
    }

    public static String brief(JsonNode n) {
        String s = n.toString();
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
