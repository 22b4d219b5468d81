package org.jtune.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading a real checkpoint (stories260K): names, shapes, dtypes and values match what an
 * independent parse of the raw bytes (plain Jackson and a ByteBuffer) finds; the views are zero-copy
 * slices of the mapping; unsupported dtypes open but refuse {@code get}; closing unmaps.
 */
class SafetensorsReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsStories260kAndAgreesWithTheRawBytes() throws Exception {
        Path file = SharedData.require("models/stories260K/model.safetensors");
        byte[] raw = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) buf.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(raw, 8, headerLen, java.nio.charset.StandardCharsets.UTF_8));
        int dataStart = 8 + headerLen;

        try (SafetensorsReader r = SafetensorsReader.open(file, 0)) { // 0: map even this small file
            TreeSet<String> expectedNames = new TreeSet<>();
            header.fieldNames().forEachRemaining(expectedNames::add);
            expectedNames.remove("__metadata__");
            assertEquals(47, expectedNames.size());
            assertEquals(expectedNames, new TreeSet<>(r.names()));
            assertEquals(Map.of("format", "pt"), r.metadata());

            Tensor emb = r.get("model.embed_tokens.weight");
            assertEquals(DType.F32, emb.dtype());
            assertArrayEquals(new int[] {512, 64}, emb.shape());
            assertTrue(emb.isContiguous());
            TensorInfo info = r.info("model.layers.3.self_attn.k_proj.weight");
            assertArrayEquals(new long[] {32, 64}, info.shape());
            assertEquals(SafetensorsDType.F32, info.dtype());
            assertEquals(file, info.file());

            for (String name : expectedNames) {
                JsonNode e = header.get(name);
                Tensor t = r.get(name);
                long begin = e.get("data_offsets").get(0).asLong();
                for (int d = 0; d < t.rank(); d++) assertEquals(e.get("shape").get(d).asInt(), t.size(d), name);
                // first, middle and last element against the raw file bytes
                long n = t.numel();
                for (long i : new long[] {0, n / 2, n - 1}) {
                    float want = buf.getFloat((int) (dataStart + begin + 4 * i));
                    float got = t.storage().getFloat(DType.F32, t.offset() + i);
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), name + "[" + i + "]");
                }
            }
            // row 7, column 5 of the embedding through the tensor's own indexing
            assertEquals(buf.getFloat(dataStart + 4 * (7 * 64 + 5)), emb.get(7, 5));
            // zero copy: the storage is a mapped slice of exactly the tensor's bytes
            assertTrue(emb.storage().segment().isMapped());
            assertEquals(512L * 64 * 4, emb.storage().byteSize());
        }
    }

    @Test
    void opensAFolderByItsModelFile() throws Exception {
        Path folder = SharedData.require("models/stories260K");
        try (SafetensorsReader r = SafetensorsReader.open(folder)) {
            assertEquals(folder.resolve("model.safetensors"), r.source());
            assertEquals(47, r.names().size());
        }
    }

    @Test
    void unsupportedDtypeOpensButGetNamesTheTensor() throws Exception {
        String header = """
                {"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},\
                "b":{"dtype":"I8","shape":[3],"data_offsets":[16,19]},\
                "c":{"dtype":"BOOL","shape":[1],"data_offsets":[19,20]}}""";
        Path f = RawSafetensors.write(dir, "x.safetensors", RawSafetensors.bytes(header, 20));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(SafetensorsDType.F64, r.info("a").dtype());
            JtuneException e = assertThrows(JtuneException.class, () -> r.get("a"));
            assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("F64"), e.getMessage());
            assertTrue(assertThrows(JtuneException.class, () -> r.get("c")).getMessage().contains("BOOL"));
            Tensor b = r.get("b");
            assertEquals(DType.I8, b.dtype());
            assertArrayEquals(new int[] {16, 17, 18}, b.toIntArray());
            JtuneException missing = assertThrows(JtuneException.class, () -> r.get("nope"));
            assertTrue(missing.getMessage().contains("'nope'"), missing.getMessage());
        }
    }

    @Test
    void hugeDimensionWithZeroElementsOpensButCannotBeViewed() throws Exception {
        String header = "{\"z\":{\"dtype\":\"U8\",\"shape\":[4294967296,0],\"data_offsets\":[0,0]}}";
        Path f = RawSafetensors.write(dir, "z.safetensors", RawSafetensors.bytes(header, 0));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(0, r.info("z").numel());
            JtuneException e = assertThrows(JtuneException.class, () -> r.get("z"));
            assertTrue(e.getMessage().contains("4294967296"), e.getMessage());
        }
    }

    @Test
    void closingUnmapsAndTensorsStopWorking() throws Exception {
        String header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
        Path f = RawSafetensors.write(dir, "c.safetensors", RawSafetensors.bytes(header, 4));
        SafetensorsReader r = SafetensorsReader.open(f);
        Tensor a = r.get("a");
        assertEquals(3, a.getInt(3));
        r.close();
        r.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> a.getInt(3));
        assertThrows(IllegalStateException.class, () -> r.get("a"));
    }

    @Test
    void scalarAndEmptyTensors() throws Exception {
        String header = """
                {"__metadata__":{"k":"v"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},\
                "e":{"dtype":"BF16","shape":[0,5],"data_offsets":[4,4]}}""";
        byte[] bytes = RawSafetensors.bytes(header, 4);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(bytes.length - 4, 2.5f);
        Path f = RawSafetensors.write(dir, "s.safetensors", bytes);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(2.5f, r.get("s").item());
            assertEquals(0, r.get("s").rank());
            assertArrayEquals(new int[] {0, 5}, r.get("e").shape());
            assertEquals(Map.of("k", "v"), r.metadata());
        }
    }
}
