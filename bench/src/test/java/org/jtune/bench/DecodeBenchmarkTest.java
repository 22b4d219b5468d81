package org.jtune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The decode benchmark's own machinery (model writing, timing, bandwidth, clean-up) on a small shape: a plain row and a
 * quantized row (GGUF export, jtune on the file, llama.cpp beside it when installed).
 */
class DecodeBenchmarkTest {
    @Test
    void quickShapeRunsAndCleansUp() throws Exception {
        assertEquals(0, new DecodeBenchmark(true, java.util.List.of("f32", "q4_0")).run(true));
    }
}
