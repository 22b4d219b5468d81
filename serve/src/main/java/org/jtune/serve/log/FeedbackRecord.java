package org.jtune.serve.log;

import java.time.Instant;

/** One row of the feedback table (schema.sql): a rating, correction or comment about a logged request. */
public record FeedbackRecord(String id, String requestId, Instant createdAt, Double rating, String correction, String comment) {}
