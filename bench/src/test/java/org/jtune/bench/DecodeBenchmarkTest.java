package org.jtune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The decode benchmark's own machinery (model writing, timing, bandwidth, clean-up) on a small shape. */
class DecodeBenchmarkTest {
    @Test
    void quickShapeRunsAndCleansUp() throws Exception {
        assertEquals(0, new DecodeBenchmark(true).run(true));
    }
}
