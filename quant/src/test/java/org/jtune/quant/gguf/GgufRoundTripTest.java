package org.jtune.quant.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.jtune.quant.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every metadata value type and every tensor type written by GgufWriter comes back from GgufReader unchanged. */
class GgufRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void everyValueTypeAndTensorTypeSurvives() throws Exception {
        Map<String, GgufValue> kv = new java.util.LinkedHashMap<>();
        kv.put("general.architecture", GgufValue.string("llama"));
        kv.put("t.u8", GgufValue.u8(255));
        kv.put("t.i8", GgufValue.i8(-128));
        kv.put("t.u16", GgufValue.u16(65535));
        kv.put("t.i16", GgufValue.i16(-32768));
        kv.put("t.u32", GgufValue.u32(4294967295L));
        kv.put("t.i32", GgufValue.i32(Integer.MIN_VALUE));
        kv.put("t.u64", GgufValue.u64(-1L));
        kv.put("t.i64", GgufValue.i64(Long.MIN_VALUE));
        kv.put("t.f32", GgufValue.f32(1e-5f));
        kv.put("t.f64", GgufValue.f64(Math.PI));
        kv.put("t.bool", GgufValue.bool(true));
        kv.put("t.string.unicode", GgufValue.string("▁Hello ✓ 你好 \uD83D\uDE80"));
        kv.put("t.empty", GgufValue.string(""));
        kv.put("t.strings", GgufValue.strings("a", "", "<0x0A>", "▁the"));
        kv.put("t.floats", GgufValue.f32s(-1000f, 0f, Float.NaN, Float.NEGATIVE_INFINITY));
        kv.put("t.ints", GgufValue.i32s(1, 2, 3, 6));
        kv.put("t.u8s", GgufValue.integers(GgufValueType.UINT8, 0, 255));
        kv.put("t.u64s", GgufValue.integers(GgufValueType.UINT64, -1L, 0));
        kv.put("t.bools", new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false}));
        kv.put("t.f64s", new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT64, new double[] {1.5, -2}));
        kv.put("t.nested", GgufValue.arrays(GgufValue.strings("x", "y"), GgufValue.i32s(7), GgufValue.arrays(GgufValue.f32s(1f))));
        kv.put("t.empty.array", GgufValue.i32s());
        GgufWriter w = new GgufWriter().alignment(64).putAll(kv);
        Random r = new Random(1);
        Map<String, byte[]> data = new java.util.LinkedHashMap<>();
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.I32};
        for (GgmlType t : types) {
            long[] dims = {t.blockSize() * 2L, 3};
            byte[] bytes = new byte[(int) (t.rowBytes(dims[0]) * 3)];
            r.nextBytes(bytes);
            data.put("tensor." + t, bytes);
            w.addTensor("tensor." + t, t, dims, MemorySegment.ofArray(bytes));
        }
        w.addTensor("scalar", GgmlType.F32, new long[0], MemorySegment.ofArray(new byte[] {0, 0, (byte) 0x80, 0x3F}));
        Path file = dir.resolve("all.gguf");
        w.write(file);
        try (GgufFile f = GgufReader.open(file)) {
            assertEquals(3, f.version());
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataOffset() % 64);
            for (var e : kv.entrySet()) assertEquals(e.getValue(), f.metadata().get(e.getKey()).orElseThrow(), e.getKey());
            assertEquals(64L, f.metadata().getLong("general.alignment"));
            for (var e : data.entrySet()) {
                GgufTensorInfo t = f.tensor(e.getKey());
                assertEquals(0, t.offset() % 64);
                assertArrayEquals(e.getValue(), f.data(t).toArray(ValueLayout.JAVA_BYTE), e.getKey());
            }
            assertEquals(1f, f.data("scalar").get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
            GgufTensorInfo q8 = f.tensor("tensor.Q8_0");
            assertArrayEquals(GgmlType.Q8_0.format().dequantize(data.get("tensor.Q8_0"), 192), f.dequantize(q8));
            GgufException unsupported = assertThrows(GgufException.class, () -> f.dequantize(f.tensor("tensor.I32")));
            assertTrue(unsupported.getMessage().contains("tensor.I32 is I32"), unsupported.getMessage());
            assertArrayEquals(new String[] {"a", "", "<0x0A>", "▁the"}, f.metadata().getStrings("t.strings"));
            assertArrayEquals(new int[] {1, 2, 3, 6}, f.metadata().getInts("t.ints"));
            GgufException e = assertThrows(GgufException.class, () -> f.metadata().getString("t.u32"));
            assertTrue(e.getMessage().contains("t.u32"), e.getMessage());
        }
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left beside the output");
        }
    }

    @Test
    void aTensorCallbackThatWritesTheWrongSizeLeavesNoFile() {
        Path file = dir.resolve("bad.gguf");
        GgufWriter w = new GgufWriter().addTensor("t", GgmlType.Q8_0, new long[] {32}, out -> out.write(java.nio.ByteBuffer.allocate(10)));
        GgufException e = assertThrows(GgufException.class, () -> w.write(file));
        assertTrue(e.getMessage().contains("produced 10 bytes, 34 expected"), e.getMessage());
        assertTrue(!Files.exists(file));
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        } catch (java.io.IOException x) {
            throw new AssertionError(x);
        }
    }

    @Test
    void version2FilesAreRead() throws Exception {
        Path file = dir.resolve("v2.gguf");
        new GgufWriter().put("general.name", GgufValue.string("v2")).addTensor("t", GgmlType.F32, new long[] {2},
                MemorySegment.ofArray(new float[] {1, 2})).write(file);
        byte[] b = Files.readAllBytes(file);
        b[4] = 2;
        Files.write(file, b);
        try (GgufFile f = GgufReader.open(file)) {
            assertEquals(2, f.version());
            assertEquals("v2", f.metadata().getString("general.name"));
            assertEquals(2f, f.data("t").get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
        }
    }
}
