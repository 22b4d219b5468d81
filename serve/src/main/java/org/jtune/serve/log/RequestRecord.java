package org.jtune.serve.log;

import java.time.Instant;

/**
 * One row of the requests table (schema.sql): what came in, what went out, how long it took.
 * Nullable fields are null when they do not apply (no output for a refused request, etc.).
 */
public record RequestRecord(String id, Instant createdAt, String endpoint, String model, String adapter, String modelVersion,
                            String requestJson, String promptText, String outputText, Integer promptTokens,
                            Integer completionTokens, Double ttftMs, Double latencyMs, String finishReason, int status,
                            String error) {}
