package org.jtune.models.structured;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/**
 * The independent references the structured-output tests check against: Jackson as a strict JSON parser
 * (one value, no duplicate keys, nothing after it) and networknt's JSON Schema validator (draft 2020-12).
 */
final class SchemaOracle {
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private SchemaOracle() {}

    /** The parsed value, or null when Jackson refuses the bytes as one strict JSON value. */
    static JsonNode parse(byte[] text) {
        try {
            JsonNode n = STRICT.readTree(text);
            return n == null || n.isMissingNode() ? null : n;
        } catch (Exception e) {
            return null;
        }
    }

    /** Whether the bytes are one JSON value the schema accepts. */
    static boolean valid(String schema, byte[] text) {
        JsonNode value = parse(text);
        return value != null && REGISTRY.getSchema(schema).validate(value).isEmpty();
    }

    static JsonNode json(String text) {
        try {
            return STRICT.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
