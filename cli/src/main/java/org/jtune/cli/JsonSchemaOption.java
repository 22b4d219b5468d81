package org.jtune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.structured.JsonShape;
import org.jtune.models.tokenizer.JsonFiles;
import org.jtune.models.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/**
 * {@code --json-schema FILE} and {@code --json-object}, for the commands that generate answers (generate, eval — so an
 * evaluation scores what a server answering with that response_format produces): see {@link JsonConstraint}.
 */
final class JsonSchemaOption {
    @Option(names = "--json-schema", paramLabel = "FILE", description = "Generate only JSON that follows this JSON Schema "
            + "(structured output: each token that would leave it is masked; generation ends when the value is complete). "
            + "The subset of OpenAI's structured outputs: type, properties, required, additionalProperties, items, "
            + "min/maxItems, min/maxLength, enum, const, anyOf, $ref to $defs; other keywords are refused.")
    Path file;

    @Option(names = "--json-object", description = "Generate only a JSON object (any keys and values).")
    boolean object;

    private JsonNode schema; // read and checked once

    /** The schema asked for, checked (before any model loads); null for free text. */
    JsonNode schema() throws JtuneException {
        if (file != null && object) throw new JtuneException("--json-schema and --json-object exclude each other");
        if (object) return new ObjectMapper().createObjectNode().put("type", "object");
        if (file == null || schema != null) return schema;
        JsonNode read = JsonFiles.read(file);
        try {
            JsonShape.compile(read);
        } catch (IllegalArgumentException e) {
            throw new JtuneException(file + ": " + e.getMessage(), e);
        }
        return schema = read;
    }

    /** The sampling constrained to the schema (ending at its stop ids), or as it is without one. */
    SamplingConfig apply(SamplingConfig sampling, Tokenizer tokenizer) throws JtuneException {
        JsonNode schema = schema();
        return schema == null ? sampling : sampling.withProcessor(JsonConstraint.schema(schema, tokenizer, sampling.stopIds()));
    }
}
