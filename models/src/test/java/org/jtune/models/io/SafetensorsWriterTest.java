package org.jtune.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jtune.JtuneException;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writing then reading gives back identical tensors for every dtype and for non-contiguous inputs
 * (transposed, strided, broadcast, selected), with and without dtype conversion; the raw file has
 * the documented layout (8-aligned header, sorted names, packed little-endian data); sharded saves
 * reload through their index; metadata survives; files appear atomically and stale weights go.
 */
class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private final Rng rng = new Rng(42);

    /** A contiguous tensor of {@code dtype} filled with random values valid for that dtype. */
    private Tensor random(DType dtype, int... shape) {
        Tensor t = Tensor.zeros(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            switch (dtype) {
                case F32, F16, BF16 -> t.storage().setFloat(dtype, i, (float) rng.nextGaussian() * 3f);
                case I32 -> t.storage().setInt(dtype, i, (int) (rng.nextFloat() * 2e9f) - 1_000_000_000);
                case I8, U8 -> t.storage().setInt(dtype, i, (int) (rng.nextFloat() * 256));
            }
        }
        return t;
    }

    /** Bit patterns of every element in row-major order, read through the tensor's own indexing. */
    private static List<Integer> bits(Tensor t) {
        List<Integer> out = new ArrayList<>();
        collect(t, new int[t.rank()], 0, out);
        return out;
    }

    private static void collect(Tensor t, int[] idx, int d, List<Integer> out) {
        if (d == t.rank()) {
            out.add(t.dtype().isFloating() ? Float.floatToRawIntBits(t.get(idx)) : t.getInt(idx));
            return;
        }
        for (int i = 0; i < t.size(d); i++) {
            idx[d] = i;
            collect(t, idx, d + 1, out);
        }
    }

    private Map<String, Tensor> everyDtypeAndLayout() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (DType dt : DType.values()) {
            if (dt == DType.BLOCK) continue; // not a safetensors dtype
            String n = dt.name().toLowerCase();
            m.put(n + ".plain", random(dt, 3, 5));
            m.put(n + ".transposed", random(dt, 4, 7).t());
            m.put(n + ".strided", random(dt, 6, 9).slice(1, 1, 9, 3).slice(0, 0, 6, 2));
            m.put(n + ".broadcast", random(dt, 1, 5).expand(4, 5));
            m.put(n + ".selected", random(dt, 3, 4, 5).permute(2, 0, 1).select(1, 2));
            m.put(n + ".scalar", random(dt, 1).reshape());
            m.put(n + ".empty", Tensor.zeros(dt, 0, 3));
            m.put(n + ".odd", random(dt, 3)); // odd byte counts shift later tensors off alignment
        }
        return m;
    }

    @Test
    void roundTripEveryDtypeAndLayout() throws Exception {
        Map<String, Tensor> tensors = everyDtypeAndLayout();
        Path f = dir.resolve("all.safetensors");
        SafetensorsWriter.defaults().withMetadata(Map.of("purpose", "test", "step", "12")).writeFile(f, tensors);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(new TreeMap<>(tensors).keySet(), r.names());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor back = r.get(e.getKey());
                assertEquals(e.getValue().dtype(), back.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertEquals(bits(e.getValue()), bits(back), e.getKey());
            }
            assertEquals(Map.of("purpose", "test", "step", "12", "format", "pt"), r.metadata());
        }
    }

    @Test
    void rawLayoutIsSortedPackedLittleEndianWithAlignedHeader() throws Exception {
        Tensor b = Tensor.of(new float[] {1.5f, -2f, 3.25f}, 3);
        Tensor a = Tensor.ofInts(new int[] {7, -8}, 2);
        Path f = dir.resolve("raw.safetensors");
        SafetensorsWriter.defaults().writeFile(f, Map.of("b", b, "a", a));
        byte[] raw = Files.readAllBytes(f);
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        assertEquals(0, (8 + n) % 8, "data area starts 8-aligned");
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.indexOf("\"a\"") < header.indexOf("\"b\""), header);
        JsonNode h = new ObjectMapper().readTree(header);
        assertEquals("I32", h.get("a").get("dtype").asText());
        assertEquals("[0,8]", h.get("a").get("data_offsets").toString());
        assertEquals("[8,20]", h.get("b").get("data_offsets").toString());
        assertEquals("[3]", h.get("b").get("shape").toString());
        assertEquals(8 + n + 20, raw.length);
        int data = (int) (8 + n);
        assertEquals(7, buf.getInt(data));
        assertEquals(-8, buf.getInt(data + 4));
        assertEquals(1.5f, buf.getFloat(data + 8));
        assertEquals(3.25f, buf.getFloat(data + 16));
    }

    @Test
    void convertsFloatingTensorsAndKeepsIntegers() throws Exception {
        Tensor w = random(DType.F32, 40, 30).t(); // non-contiguous source
        Tensor h = random(DType.F16, 7);
        Tensor odd = random(DType.I8, 3); // sorted first: the converted data starts at an odd offset
        Tensor ids = random(DType.I32, 5);
        Path f = dir.resolve("bf16.safetensors");
        SafetensorsWriter.defaults().withFloatDType(DType.BF16)
                .writeFile(f, Map.of("w", w, "h", h, "a_odd", odd, "ids", ids));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            Tensor wb = r.get("w");
            assertEquals(DType.BF16, wb.dtype());
            for (int i = 0; i < 30; i++) {
                for (int j = 0; j < 40; j++) {
                    assertEquals(Half.bf16ToFloat(Half.floatToBf16(w.get(i, j))), wb.get(i, j));
                }
            }
            Tensor hb = r.get("h");
            assertEquals(DType.BF16, hb.dtype());
            for (int i = 0; i < 7; i++) assertEquals(Half.bf16ToFloat(Half.floatToBf16(h.get(i))), hb.get(i));
            assertEquals(DType.I32, r.get("ids").dtype());
            assertArrayEquals(ids.toIntArray(), r.get("ids").toIntArray());
            assertArrayEquals(odd.toIntArray(), r.get("a_odd").toIntArray());
        }
        Path g = dir.resolve("f32.safetensors");
        SafetensorsWriter.defaults().withFloatDType(DType.F32).writeFile(g, Map.of("a_odd", odd, "h", h));
        try (SafetensorsReader r = SafetensorsReader.open(g)) {
            assertEquals(bits(h), bits(r.get("h")), "F16 widens to F32 exactly");
        }
    }

    @Test
    void largeTensorsCrossTheStreamBuffer() throws Exception {
        Tensor big = random(DType.F32, 600, 700); // 1.68 MB, bulk path through a 1 MiB buffer
        Tensor bigT = random(DType.BF16, 900, 800).t(); // element path, 1.44 MB
        Path f = dir.resolve("big.safetensors");
        SafetensorsWriter.defaults().writeFile(f, Map.of("big", big, "bigT", bigT));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertArrayEquals(big.toFloatArray(), r.get("big").toFloatArray());
            assertArrayEquals(bigT.toFloatArray(), r.get("bigT").toFloatArray());
        }
    }

    @Test
    void shardedSaveReloadsThroughItsIndexAndResaveRemovesStaleShards() throws Exception {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) tensors.put("layers." + i + ".weight", random(DType.F32, 16, 16)); // 1024 B each
        tensors.put("norm", random(DType.BF16, 16).expand(3, 16));
        Path model = dir.resolve("model");
        List<Path> written = SafetensorsWriter.defaults().withMaxShardBytes(3000).writeModel(model, tensors);
        List<String> names = written.stream().map(p -> p.getFileName().toString()).toList();
        // two 1024-byte tensors fit under 3000 bytes: [0,1] [2,3] [4,5] [6,7] [8,9,norm]
        assertEquals(List.of("model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors",
                ShardIndex.FILE_NAME), names);

        ShardIndex index = ShardIndex.read(model.resolve(ShardIndex.FILE_NAME));
        assertEquals(10 * 1024 + 3 * 16 * 2, index.totalSize());
        assertEquals(tensors.keySet(), Set.copyOf(index.weightMap().keySet()));
        assertEquals("model-00001-of-00005.safetensors", index.weightMap().get("layers.0.weight"));
        try (SafetensorsReader r = SafetensorsReader.open(model)) {
            assertEquals(model.resolve(ShardIndex.FILE_NAME).toAbsolutePath(), r.source().toAbsolutePath());
            assertEquals(5, r.files().size());
            assertEquals(Map.of("format", "pt"), r.metadata());
            Map<Path, Long> bytesPerShard = new TreeMap<>();
            for (String name : r.names()) bytesPerShard.merge(r.info(name).file(), r.info(name).byteLength(), Long::sum);
            assertEquals(List.of(2048L, 2048L, 2048L, 2048L, 2048L + 96), List.copyOf(bytesPerShard.values()));
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                assertEquals(bits(e.getValue()), bits(r.get(e.getKey())), e.getKey());
            }
            assertEquals("model-00005-of-00005.safetensors", index.weightMap().get("norm"));
            assertTrue(r.info("layers.9.weight").file().getFileName().toString().startsWith("model-00005"));
        }

        // saving again into one file removes the earlier shards and index
        SafetensorsWriter.defaults().writeModel(model, tensors);
        try (Stream<Path> files = Files.list(model)) {
            assertEquals(List.of("model.safetensors"), files.map(p -> p.getFileName().toString()).toList());
        }
        try (SafetensorsReader r = SafetensorsReader.open(model)) {
            assertEquals(tensors.keySet(), Set.copyOf(r.names()));
        }
    }

    @Test
    void overwritingAMappedFileLeavesOpenReadersOnTheOldContent() throws Exception {
        Path f = dir.resolve("w.safetensors");
        SafetensorsWriter.defaults().writeFile(f, Map.of("x", Tensor.of(new float[] {1, 2}, 2)));
        try (SafetensorsReader old = SafetensorsReader.open(f)) {
            Tensor x = old.get("x");
            SafetensorsWriter.defaults().writeFile(f, Map.of("x", Tensor.of(new float[] {5, 6, 7}, 3)));
            assertArrayEquals(new float[] {1, 2}, x.toFloatArray());
            try (SafetensorsReader fresh = SafetensorsReader.open(f)) {
                assertArrayEquals(new float[] {5, 6, 7}, fresh.get("x").toFloatArray());
            }
        }
    }

    @Test
    void failedWriteLeavesTheTargetUntouchedAndNoTemporaryFile() throws Exception {
        Path f = dir.resolve("keep.safetensors");
        SafetensorsWriter.defaults().writeFile(f, Map.of("x", Tensor.of(new float[] {1, 2}, 2)));
        byte[] before = Files.readAllBytes(f);
        // a tensor claiming 100 elements over storage of one: the write fails part-way through
        Tensor broken = new Tensor(Storage.wrap(MemorySegment.ofArray(new float[1])), DType.F32, new int[] {100},
                new long[] {1}, 0);
        assertThrows(IndexOutOfBoundsException.class,
                () -> SafetensorsWriter.defaults().writeFile(f, Map.of("a", Tensor.of(new float[] {3}, 1), "b", broken)));
        assertArrayEquals(before, Files.readAllBytes(f));
        JtuneException bad = assertThrows(JtuneException.class,
                () -> SafetensorsWriter.defaults().writeFile(f, Map.of("__metadata__", Tensor.scalar(1))));
        assertTrue(bad.getMessage().contains("__metadata__"), bad.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("keep.safetensors"), files.map(p -> p.getFileName().toString()).toList());
        }
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
    }

    @Test
    void emptyCheckpointRoundTrips() throws Exception {
        Path f = dir.resolve("empty.safetensors");
        SafetensorsWriter.defaults().withMetadata(Map.of("format", "mlx")).writeFile(f, Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertTrue(r.names().isEmpty());
            assertEquals(Map.of("format", "mlx"), r.metadata());
        }
    }
}
