package org.jtune.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TrainerStateTest {
    @Test
    void roundTripsExactly() throws CheckpointException {
        var s = new TrainerState(1234, 2, new DataCursor(2, 77), Long.MIN_VALUE + 5, 0.4123456789012345, 1200L, 1, 1234, 987_654_321L, 3601.25);
        assertEquals(s, TrainerState.fromJson(s.toJson(), "x"));
        var initial = TrainerState.initial(-1L);
        assertEquals(initial, TrainerState.fromJson(initial.toJson(), "x"));
        assertEquals(null, TrainerState.fromJson(initial.toJson(), "x").bestMetric());
    }

    @Test
    void errorsNameTheFileAndField() {
        String json = TrainerState.initial(3).toJson();
        var missing = assertThrows(CheckpointException.class, () -> TrainerState.fromJson(json.replace("\"rng_state\"", "\"rng\""), "ck/trainer_state.json"));
        assertEquals("ck/trainer_state.json: missing field 'rng_state'", missing.getMessage());
        var wrong = assertThrows(CheckpointException.class, () -> TrainerState.fromJson(json.replace("\"global_step\" : 0", "\"global_step\" : \"ten\""), "f"));
        assertEquals("f: field 'global_step' must be a whole number, got \"ten\"", wrong.getMessage());
        var neg = assertThrows(CheckpointException.class, () -> TrainerState.fromJson(json.replace("\"global_step\" : 0", "\"global_step\" : -1"), "f"));
        assertEquals("f: trainer state counters must be >= 0", neg.getMessage());
        assertThrows(CheckpointException.class, () -> TrainerState.fromJson("{", "f"));
    }
}
