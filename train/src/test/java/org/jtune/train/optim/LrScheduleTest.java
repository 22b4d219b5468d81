package org.jtune.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Values worked out by hand from the transformers formulas quoted in each schedule. */
class LrScheduleTest {
    @Test
    void constantWithWarmup() {
        var s = new ConstantSchedule(1e-3, 4);
        assertEquals(0.0, s.lr(0));
        assertEquals(0.25e-3, s.lr(1), 1e-15);
        assertEquals(0.75e-3, s.lr(3), 1e-15);
        assertEquals(1e-3, s.lr(4));
        assertEquals(1e-3, s.lr(1000));
        assertEquals(2e-4, new ConstantSchedule(2e-4, 0).lr(0));
    }

    @Test
    void linearWarmupThenDecayToZero() {
        var s = new LinearSchedule(1.0, 2, 10);
        assertEquals(0.0, s.lr(0));
        assertEquals(0.5, s.lr(1));
        assertEquals(1.0, s.lr(2)); // (10-2)/(10-2)
        assertEquals(0.75, s.lr(4)); // (10-4)/8
        assertEquals(0.125, s.lr(9)); // 1/8
        assertEquals(0.0, s.lr(10));
        assertEquals(0.0, s.lr(12));
    }

    @Test
    void cosineWarmupThenHalfCosine() {
        var s = new CosineSchedule(2.0, 2, 10);
        assertEquals(0.0, s.lr(0));
        assertEquals(1.0, s.lr(1));
        assertEquals(2.0, s.lr(2), 1e-15);
        // progress 2/8 = 0.25: 0.5(1 + cos(π/4)) = 0.5 + √2/4
        assertEquals(2.0 * (0.5 + Math.sqrt(2) / 4), s.lr(4), 1e-15);
        assertEquals(1.0, s.lr(6), 1e-15); // progress 0.5
        assertEquals(0.0, s.lr(10), 1e-15);
    }

    @Test
    void cosineWithMinLrRatio() {
        var s = new CosineSchedule(1.0, 0, 4, 0.1);
        assertEquals(1.0, s.lr(0));
        assertEquals(0.1 + 0.9 * 0.5, s.lr(2), 1e-15); // progress 0.5
        assertEquals(0.1, s.lr(4), 1e-15); // floor
        // progress 0.25: 0.1 + 0.9 * (0.5 + √2/4)
        assertEquals(0.1 + 0.9 * (0.5 + Math.sqrt(2) / 4), s.lr(1), 1e-15);
    }

    @Test
    void factoryAndWarmupRatio() {
        assertEquals(new CosineSchedule(1e-4, 3, 100, 0), LrSchedule.of("cosine", 1e-4, 3, 100, 0));
        assertEquals(new LinearSchedule(1e-4, 3, 100), LrSchedule.of("Linear", 1e-4, 3, 100, 0));
        assertEquals(3, LrSchedule.warmupFromRatio(0.03, 100));
        assertEquals(4, LrSchedule.warmupFromRatio(0.03, 101)); // ceil(3.03)
        assertEquals(0, LrSchedule.warmupFromRatio(0, 100));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("step", 1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1, 0, 1, 1.5));
    }
}
