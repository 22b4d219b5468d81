package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.tensor.SimulatedDevice;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device plumbing through the CLI: {@code --device} on generate, eval and train, and the recipe key
 * {@code device:}. On the simulated device (memory the host cannot address, CPU kernels behind it) a
 * generation and a LoRA training give the CPU's results exactly, so every weight, adapter parameter,
 * KV cache and optimizer buffer was placed on the device once and only ids and metrics crossed (any host
 * operand reaching a sim kernel fails it); a device that is not there ends the command with one line naming it.
 */
class DeviceOptionTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void startTheSimulatedDevice() throws Exception {
        assertEquals("sim:0", SimulatedDevice.INSTANCE.device().toString()); // registers it
        model = SharedData.require("models/stories260K");
    }

    @Test
    void anAbsentDeviceIsOneLineNamingIt() {
        CliRun g = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--device", "nosuch:3");
        assertTrue(g.failedWithOneLine("generate", "nosuch:3", "not available"), g.toString());
        CliRun bad = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--device", "opencl:x");
        assertTrue(bad.failedWithOneLine("generate", "bad device 'opencl:x'"), bad.toString());
    }

    @Test
    void generationOnADeviceEqualsTheCpu() {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Once upon a time", "--max-new-tokens", "24", "--json"};
        CliRun cpu = CliRun.of(args), sim = CliRun.of(CarelessUseTest.concat(args, "--device", "sim:0"));
        assertEquals(0, cpu.exit(), cpu.toString());
        assertEquals(0, sim.exit(), sim.toString());
        assertEquals(cpu.out(), sim.out());
    }

    @Test
    void trainingOnADeviceEqualsTheCpu() throws Exception {
        Path data = Files.writeString(tmp.resolve("a.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a cat\"}]}\n".repeat(4));
        String recipe = "base_model: " + model + "\ndatasets:\n  - path: " + data + "\n    type: chat\nchat_template: llama2\nadapter: lora\n"
                + "lora_r: 2\nlora_target_modules: [q_proj, v_proj]\nsequence_len: 64\nmax_steps: 3\nmicro_batch_size: 2\nthreads: 1\n"
                + "learning_rate: 0.01\nlogging_steps: 1\n";
        Path onCpu = Files.writeString(tmp.resolve("cpu.yaml"), recipe);
        Path onSim = Files.writeString(tmp.resolve("sim.yaml"), recipe + "device: sim:0\n");
        CliRun cpu = CliRun.of("train", onCpu.toString(), "--output-dir", tmp.resolve("run-cpu").toString());
        CliRun sim = CliRun.of("train", onSim.toString(), "--output-dir", tmp.resolve("run-sim").toString());
        CliRun flag = CliRun.of("train", onCpu.toString(), "--device", "sim:0", "--output-dir", tmp.resolve("run-flag").toString());
        for (CliRun r : List.of(cpu, sim, flag)) assertEquals(0, r.exit(), r.toString());
        List<String> cpuLosses = losses(tmp.resolve("run-cpu"));
        assertEquals(3, cpuLosses.size());
        assertEquals(cpuLosses, losses(tmp.resolve("run-sim")));
        assertEquals(cpuLosses, losses(tmp.resolve("run-flag")));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("run-cpu/adapter/adapter_model.safetensors")),
                Files.readAllBytes(tmp.resolve("run-sim/adapter/adapter_model.safetensors")));
        assertTrue(Files.readString(tmp.resolve("run-sim/config.yaml")).contains("device: sim:0"));
        CliRun absent = CliRun.of("train", onCpu.toString(), "--device", "nosuch:0", "--output-dir", tmp.resolve("run-absent").toString());
        assertTrue(absent.failedWithOneLine("train", "nosuch:0"), absent.toString());
    }

    /** The "loss" of each step row of metrics.jsonl, as written. */
    static List<String> losses(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> l.contains("\"loss\""))
                .map(l -> l.replaceAll(".*\"loss\":([^,}]*).*", "$1")).toList();
    }
}
