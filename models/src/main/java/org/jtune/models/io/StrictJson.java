package org.jtune.models.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Jackson set up for JSON that comes from files we do not trust (safetensors headers, shard
 * indexes, config.json): a duplicate key anywhere is an error, and nesting depth, string, name and
 * number lengths are bounded so a hostile document fails fast instead of exhausting the stack or
 * the heap. Document size is bounded by the callers, which read a file only after checking its size.
 */
public final class StrictJson {
    /** Deepest nesting accepted; real headers and configs need 3 or 4 levels. */
    public static final int MAX_NESTING = 64;
    /** Longest string value (a metadata value, a dtype name). */
    public static final int MAX_STRING = 1 << 20;
    /** Longest object key (a tensor name). */
    public static final int MAX_NAME = 1 << 16;
    /** Longest number literal, in characters. */
    public static final int MAX_NUMBER = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING)
                    .maxStringLength(MAX_STRING)
                    .maxNameLength(MAX_NAME)
                    .maxNumberLength(MAX_NUMBER)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private StrictJson() {}

    /** The bounded, duplicate-rejecting factory for streaming parsers. */
    public static JsonFactory factory() {
        return FACTORY;
    }

    /** An object mapper over {@link #factory()} (thread-safe once configured; do not reconfigure it). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
