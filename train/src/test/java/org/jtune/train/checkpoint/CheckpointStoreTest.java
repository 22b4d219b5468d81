package org.jtune.train.checkpoint;

import org.jtune.io.AtomicFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.jtune.train.optim.AdamW;
import org.jtune.train.optim.OptimizerState;
import org.jtune.autograd.Variable;
import org.jtune.train.optim.Params;
import org.jtune.train.optim.WeightDecayRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
    private static Checkpoint sample(long step) {
        Rng rng = new Rng(step);
        var state = new TrainerState(step, 1, new DataCursor(1, 5), rng.state(), 0.5, step, 0, step, 100 * step, 12.5);
        var opt = new OptimizerState("adamw", step, Map.of("w.exp_avg", Tensor.randn(rng, 1, 3, 5), "w.exp_avg_sq", Tensor.randn(rng, 1, 3, 5)));
        return new Checkpoint(state, opt, "adapter_model", Map.of("w", Tensor.randn(rng, 1, 3, 5), "b", Tensor.scalar(2f)),
                Map.of("adapter_config.json", "{\"r\": 8}\n"));
    }

    private static void assertSameTensors(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).shape(), got.get(k).shape(), k);
            assertArrayEquals(want.get(k).toFloatArray(), got.get(k).toFloatArray(), k);
        }
    }

    @Test
    void saveThenLoadGivesTheSameCheckpoint(@TempDir Path run) throws Exception {
        var store = new CheckpointStore(run, new RawTensorCodec());
        Checkpoint c = sample(40);
        Path dir = store.save(c);
        assertEquals(run.resolve("checkpoints/checkpoint-000040"), dir);
        try (var s = Files.list(dir)) {
            assertEquals(List.of("adapter_config.json", "adapter_model.raw", "manifest.json", "optimizer.json", "optimizer.raw", "trainer_state.json"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Checkpoint back = store.load(dir);
        assertEquals(c.state(), back.state());
        assertEquals("adapter_model", back.weightsName());
        assertEquals(c.extraFiles(), back.extraFiles());
        assertEquals("adamw", back.optimizer().kind());
        assertEquals(40, back.optimizer().step());
        assertSameTensors(c.weights(), back.weights());
        assertSameTensors(c.optimizer().tensors(), back.optimizer().tensors());
        assertEquals(40, CheckpointManifest.read(dir).step());
    }

    @Test
    void corruptionAndTruncationNameTheFile(@TempDir Path run) throws Exception {
        var store = new CheckpointStore(run, new RawTensorCodec());
        Path dir = store.save(sample(7));
        Path weights = dir.resolve("adapter_model.raw");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(40);
            int b = f.read();
            f.seek(40);
            f.write(b ^ 1);
        }
        var e = assertThrows(CheckpointException.class, () -> store.load(dir));
        assertTrue(e.getMessage().startsWith(weights + " is corrupt: SHA-256 "), e.getMessage());

        Path opt = dir.resolve("optimizer.raw");
        byte[] bytes = Files.readAllBytes(opt);
        Files.write(opt, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        var t = assertThrows(CheckpointException.class, () -> new CheckpointManifest(7, "", List.of(
                CheckpointManifest.read(dir).entry("optimizer.raw"))).verify(dir));
        assertEquals(opt + " has " + (bytes.length - 4) + " bytes but manifest.json records " + bytes.length + " (truncated or changed)", t.getMessage());

        Files.delete(dir.resolve("trainer_state.json"));
        var m = assertThrows(CheckpointException.class, () -> new CheckpointManifest(7, "", List.of(
                CheckpointManifest.read(dir).entry("trainer_state.json"))).verify(dir));
        assertEquals(dir.resolve("trainer_state.json") + " is missing (listed in manifest.json)", m.getMessage());
    }

    @Test
    void codecRejectsTruncatedFilesByName(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("t.raw");
        var codec = new RawTensorCodec();
        AtomicFile.write(f, out -> codec.write(Map.of("a", Tensor.ones(4, 4)), out));
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 1));
        var e = assertThrows(CheckpointException.class, () -> codec.read(f));
        assertEquals(f + ": tensor a is cut short (truncated?)", e.getMessage());
        Files.writeString(f, "hello");
        assertEquals(f + ": not a JTRAW1 tensor file", assertThrows(CheckpointException.class, () -> codec.read(f)).getMessage());
    }

    @Test
    void incompleteFoldersAreIgnoredAndPruningKeepsNewestAndBest(@TempDir Path run) throws Exception {
        var store = new CheckpointStore(run, new RawTensorCodec());
        for (long s : new long[] {10, 20, 30, 40}) store.save(sample(s));
        Files.createDirectories(run.resolve("checkpoints/checkpoint-000050")); // crashed before its manifest
        Files.createDirectories(run.resolve("checkpoints/.checkpoint-000060.partial"));
        assertEquals(List.of(10L, 20L, 30L, 40L), store.list().stream().map(CheckpointStore::stepOf).toList());
        assertEquals(40, CheckpointStore.stepOf(store.latest().orElseThrow()));
        var incomplete = assertThrows(CheckpointException.class, () -> store.load(run.resolve("checkpoints/checkpoint-000050")));
        assertTrue(incomplete.getMessage().contains("manifest.json is missing"), incomplete.getMessage());

        List<Path> deleted = store.prune(2, 10L);
        assertEquals(List.of(store.folder(20)), deleted);
        assertEquals(List.of(10L, 30L, 40L), store.list().stream().map(CheckpointStore::stepOf).toList());
        assertTrue(Files.notExists(run.resolve("checkpoints/.checkpoint-000060.partial")));
    }

    @Test
    void savingTheSameStepAgainReplacesIt(@TempDir Path run) throws Exception {
        var store = new CheckpointStore(run, new RawTensorCodec());
        store.save(sample(5));
        Checkpoint again = sample(5);
        again = new Checkpoint(again.state(), again.optimizer(), "adapter_model", Map.of("w", Tensor.full(9f, 2)), Map.of());
        store.save(again);
        Checkpoint back = store.load(store.folder(5));
        assertArrayEquals(new float[] {9f, 9f}, back.weights().get("w").toFloatArray());
        assertEquals(Map.of(), back.extraFiles());
        try (var s = Files.list(store.root())) {
            assertEquals(1, s.count(), "no leftovers");
        }
    }

    @Test
    void resumeThroughACheckpointContinuesBitForBit(@TempDir Path run) throws JtuneException {
        Rng data = new Rng(99);
        float[] init = Tensor.randn(data, 1, 200).toFloatArray();
        float[][] grads = new float[6][];
        for (int s = 0; s < 6; s++) grads[s] = Tensor.randn(data, 1, 200).toFloatArray();

        Variable a = Params.param("w", Tensor.of(init.clone(), 10, 20));
        AdamW full = new AdamW(WeightDecayRule.split(List.of(a), 0.01), AdamW.Config.TORCH_DEFAULTS);
        for (int s = 0; s < 6; s++) {
            Params.setGrad(a, grads[s]);
            full.step(1e-2);
        }

        Variable b = Params.param("w", Tensor.of(init.clone(), 10, 20));
        AdamW first = new AdamW(WeightDecayRule.split(List.of(b), 0.01), AdamW.Config.TORCH_DEFAULTS);
        for (int s = 0; s < 2; s++) {
            Params.setGrad(b, grads[s]);
            first.step(1e-2);
        }
        var store = new CheckpointStore(run, new RawTensorCodec());
        store.save(new Checkpoint(new TrainerState(2, 0, new DataCursor(0, 2), 0, null, null, 0, 2, 0, 1), first.state(),
                "model", Map.of("w", b.value()), Map.of()));

        Checkpoint loaded = store.load(store.latest().orElseThrow());
        Variable c = Params.param("w", loaded.weights().get("w"));
        AdamW resumed = new AdamW(WeightDecayRule.split(List.of(c), 0.01), AdamW.Config.TORCH_DEFAULTS);
        resumed.restore(loaded.optimizer());
        for (int s = (int) loaded.state().globalStep(); s < 6; s++) {
            Params.setGrad(c, grads[s]);
            resumed.step(1e-2);
        }
        assertArrayEquals(a.value().toFloatArray(), c.value().toFloatArray());
    }
}
