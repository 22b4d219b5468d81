package org.jtune.train.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Everything besides tensors that a resumed run needs to continue exactly: the optimizer step,
 * the epoch, the data cursor, the random generator's state ({@link org.jtune.tensor.Rng#state()}),
 * the best validation metric so far (null before the first evaluation) with its step and the
 * early-stopping counter, the scheduler's step, the tokens seen and the training time so far.
 * Stored as trainer_state.json; {@link #fromJson} rejects missing or mistyped fields by name.
 */
public record TrainerState(long globalStep, int epoch, DataCursor cursor, long rngState, Double bestMetric, Long bestStep,
                           int evalsWithoutImprovement, long schedulerStep, long tokensSeen, double elapsedSeconds) {
    public static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public TrainerState {
        if (globalStep < 0 || epoch < 0 || schedulerStep < 0 || tokensSeen < 0 || evalsWithoutImprovement < 0) {
            throw new IllegalArgumentException("trainer state counters must be >= 0");
        }
        if (cursor == null) throw new IllegalArgumentException("data cursor is required");
        if (!(elapsedSeconds >= 0)) throw new IllegalArgumentException("elapsed seconds must be >= 0, got " + elapsedSeconds);
    }

    /** The state of a run that has not started. */
    public static TrainerState initial(long rngState) {
        return new TrainerState(0, 0, DataCursor.START, rngState, null, null, 0, 0, 0, 0);
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("global_step", globalStep);
        o.put("epoch", epoch);
        o.putObject("data_cursor").put("epoch", cursor.epoch()).put("index", cursor.index());
        o.put("rng_state", rngState);
        if (bestMetric == null) o.putNull("best_metric");
        else o.put("best_metric", bestMetric);
        if (bestStep == null) o.putNull("best_step");
        else o.put("best_step", bestStep);
        o.put("evals_without_improvement", evalsWithoutImprovement);
        o.put("scheduler_step", schedulerStep);
        o.put("tokens_seen", tokensSeen);
        o.put("elapsed_seconds", elapsedSeconds);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses trainer_state.json; {@code source} names the file in errors. */
    public static TrainerState fromJson(String json, String source) throws CheckpointException {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (o == null || !o.isObject()) throw new CheckpointException(source + ": expected a JSON object");
        long format = integer(o, "format", source);
        if (format != FORMAT) throw new CheckpointException(source + ": trainer state format " + format + " is not supported (expected " + FORMAT + ")");
        JsonNode c = o.get("data_cursor");
        if (c == null || !c.isObject()) throw new CheckpointException(source + ": missing object 'data_cursor'");
        try {
            return new TrainerState(integer(o, "global_step", source), (int) integer(o, "epoch", source),
                    new DataCursor((int) integer(c, "epoch", source), integer(c, "index", source)), integer(o, "rng_state", source),
                    o.path("best_metric").isNumber() ? o.get("best_metric").doubleValue() : nullOrFail(o, "best_metric", source),
                    o.path("best_step").canConvertToExactIntegral() ? Long.valueOf(o.get("best_step").longValue()) : nullOrFail(o, "best_step", source),
                    (int) integer(o, "evals_without_improvement", source), integer(o, "scheduler_step", source),
                    integer(o, "tokens_seen", source), number(o, "elapsed_seconds", source));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(source + ": " + e.getMessage());
        }
    }

    private static long integer(JsonNode o, String field, String source) throws CheckpointException {
        JsonNode n = o.get(field);
        if (n == null) throw new CheckpointException(source + ": missing field '" + field + "'");
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw new CheckpointException(source + ": field '" + field + "' must be a whole number, got " + n);
        return n.longValue();
    }

    private static double number(JsonNode o, String field, String source) throws CheckpointException {
        JsonNode n = o.get(field);
        if (n == null) throw new CheckpointException(source + ": missing field '" + field + "'");
        if (!n.isNumber()) throw new CheckpointException(source + ": field '" + field + "' must be a number, got " + n);
        return n.doubleValue();
    }

    private static <T> T nullOrFail(JsonNode o, String field, String source) throws CheckpointException {
        JsonNode n = o.get(field);
        if (n == null) throw new CheckpointException(source + ": missing field '" + field + "'");
        if (!n.isNull()) throw new CheckpointException(source + ": field '" + field + "' must be a number or null, got " + n);
        return null;
    }
}
