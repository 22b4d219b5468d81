package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import org.jtune.tensor.SimulatedDevice;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * {@code --kv-type}: a BF16 or F16 KV cache generates stories260K's greedy text as the F32 cache does (the model's reference
 * test checks the whole llama2.c output); an unknown type, or a half-precision cache on a device, is one line naming it.
 */
class KvTypeOptionTest {
    @Test
    void halfPrecisionCachesGenerateWhatTheF32CacheGenerates() {
        Path model = SharedData.require("models/stories260K");
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Once upon a time", "--max-new-tokens", "40", "--json"};
        CliRun f32 = CliRun.of(args);
        assertEquals(0, f32.exit(), f32.toString());
        for (String type : new String[] {"bf16", "f16"}) {
            CliRun half = CliRun.of(CarelessUseTest.concat(args, "--kv-type", type));
            assertEquals(0, half.exit(), half.toString());
            assertEquals(f32.out(), half.out(), type);
        }
    }

    @Test
    void anUnknownTypeOrADeviceIsOneLineNamingIt() {
        Path model = SharedData.require("models/stories260K");
        CliRun bad = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--kv-type", "q8");
        assertTrue(bad.failedWithOneLine("generate", "--kv-type", "'q8'", "f32, bf16 or f16"), bad.toString());
        assertEquals("sim:0", SimulatedDevice.INSTANCE.device().toString()); // registers it
        CliRun device = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--kv-type", "bf16", "--device", "sim:0");
        assertTrue(device.failedWithOneLine("generate", "--kv-type bf16", "CPU only"), device.toString());
    }
}
