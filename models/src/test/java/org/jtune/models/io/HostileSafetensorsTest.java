package org.jtune.models.io;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.jtune.JtuneException;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken and hostile safetensors files: every prefix of a valid file, random byte flips in the
 * header (1000, seeded), and hand-crafted attacks (absurd header lengths, offsets past the end, overlaps, gigantic
 * or negative shapes, duplicate keys, deep nesting, huge strings, path traversal in an index). Each
 * must end in a {@link JtuneException} whose message names the file (and the tensor where there is
 * one) — never another exception, an OutOfMemoryError or a hang — and small hostile files must not
 * make the reader allocate more than a few megabytes.
 */
class HostileSafetensorsTest {
    private static final long SMALL_ALLOCATION = 8L << 20;
    /**
     * Per-file limit: parsing takes milliseconds, so this only catches hangs; it is generous because
     * the 2-core test machine is shared and a 50 MB file must be written first.
     */
    private static final Duration NO_HANG = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /** Loads the parser and exception classes once, so allocation counts below measure the reader only. */
    @BeforeAll
    static void loadClasses(@TempDir Path tmp) throws Exception {
        Path f = RawSafetensors.write(tmp, "warm.safetensors", RawSafetensors.bytes("{\"a\":{},\"a\":{}}", 0));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            fail("duplicate keys accepted: " + r.names());
        } catch (JtuneException expected) {
            // classes loaded
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Opens {@code content} as a file and expects a JtuneException mentioning every fragment. */
    private JtuneException rejects(byte[] content, long maxAllocation, String... fragments) throws Exception {
        Path f = RawSafetensors.write(dir, "hostile.safetensors", content);
        return assertTimeoutPreemptively(NO_HANG, () -> {
            long before = allocatedBytes();
            Throwable thrown = null;
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                fail("opened a hostile file with tensors " + r.names());
            } catch (Throwable t) {
                thrown = t;
            }
            long allocated = allocatedBytes() - before;
            JtuneException e = assertInstanceOf(JtuneException.class, thrown);
            assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
            for (String fragment : fragments) {
                assertTrue(e.getMessage().contains(fragment), "message lacks '" + fragment + "': " + e.getMessage());
            }
            assertTrue(allocated <= maxAllocation, "allocated " + allocated + " bytes: " + e.getMessage());
            return e;
        });
    }

    private JtuneException rejects(String header, int dataBytes, String... fragments) throws Exception {
        return rejects(RawSafetensors.bytes(header, dataBytes), SMALL_ALLOCATION, fragments);
    }

    private static byte[] withLength(long declared, String header) {
        return RawSafetensors.bytes(declared, header.getBytes(StandardCharsets.UTF_8), new byte[64]);
    }

    @Test
    void absurdHeaderLengths() throws Exception {
        String h = "{}";
        rejects(withLength(Long.MIN_VALUE, h), SMALL_ALLOCATION, "9223372036854775808", "exceeds");
        rejects(withLength(-1L, h), SMALL_ALLOCATION, "18446744073709551615", "exceeds");
        rejects(withLength(1L << 40, h), SMALL_ALLOCATION, "1099511627776", "exceeds");
        rejects(withLength(50_000_000L, h), SMALL_ALLOCATION, "runs past the end");
        rejects(withLength(0, h), SMALL_ALLOCATION, "too short");
        rejects(new byte[0], SMALL_ALLOCATION, "too short");
        rejects(new byte[7], SMALL_ALLOCATION, "too short");
    }

    @Test
    void offsetsAndSizes() throws Exception {
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "'w'", "past the data area");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", 8,
                "'w'", "past the data area");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "'w'", "begin > end");
        rejects("""
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
                "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 16, "'b'", "overlaps", "'a'");
        rejects("""
                {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},\
                "b":{"dtype":"U8","shape":[0],"data_offsets":[8,8]}}""", 16, "overlaps");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648,2147483648,4],\"data_offsets\":[0,16]}}", 16,
                "'w'", "overflows");
        rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,16]}}", 16,
                "'w'", "needs 4611686018427387904 bytes");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, "'w'", "needs 12 bytes");
        rejects("{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 16, "'w'", "whole number of bytes");
    }

    @Test
    void malformedEntries() throws Exception {
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, "'w'", "negative");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-16,0]}}", 16, "'w'", "negative");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,16]}}", 16, "'w'", "non-integer 2.5");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", 16, "'w'", "string");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,16]}}", 16,
                "'w'", "63 bits");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + "9".repeat(5000) + "],\"data_offsets\":[0,16]}}", 16,
                "parser limit");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + "1,".repeat(100) + "1],\"data_offsets\":[0,4]}}", 16,
                "'w'", "more than 64");
        rejects("{\"w\":{\"dtype\":\"F128\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "'w'", "unknown dtype 'F128'");
        rejects("{\"w\":{\"dtype\":7,\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "'w'", "dtype must be a string");
        rejects("{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "'w'", "missing dtype");
        rejects("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", 16, "'w'", "missing shape");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", 16, "'w'", "missing data_offsets");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8,16]}}", 16, "'w'", "data_offsets");
        rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16]}}", 16, "'w'", "[begin, end]");
        rejects("{\"w\":5}", 16, "'w'", "must be an object");
        rejects("{\"__metadata__\":{\"k\":5}}", 16, "__metadata__", "'k'");
        rejects("{\"__metadata__\":[]}", 16, "__metadata__");
    }

    @Test
    void malformedJson() throws Exception {
        rejects("[]    ", 0, "not a JSON object");
        rejects("\"x\"   ", 0, "not a JSON object");
        rejects("{\"w\":", 0, "malformed");
        rejects("{}x", 0, "malformed");
        rejects("{}{}", 0, "after its JSON object");
        rejects("{\"a\" 1}", 0, "malformed");
        rejects(RawSafetensors.bytes(4, new byte[] {'{', '"', (byte) 0xff, '"'}, new byte[0]), SMALL_ALLOCATION, "malformed");
        rejects(RawSafetensors.bytes(4, new byte[] {'{', '}', 0, 0}, new byte[0]), SMALL_ALLOCATION, "malformed");
    }

    @Test
    void duplicateKeysAnywhere() throws Exception {
        String entry = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        rejects("{\"w\":" + entry + ",\"w\":" + entry.replace("[0,1]", "[1,2]") + "}", 2, "Duplicate", "'w'");
        rejects("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}", 2,
                "Duplicate", "'dtype'", "'w'");
        rejects("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "Duplicate", "'k'");
    }

    @Test
    void deepNestingAndHugeStrings() throws Exception {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":" + deep + "}}", 1, "parser limit", "'w'");
        rejects("{\"w\":{\"dtype\":\"U8\",\"x\":" + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_002), 1, "parser limit");
        // a 50 MB string: the header itself is read (50 MB), the parser gives up at its 1 MB string limit
        String huge = "{\"__metadata__\":{\"k\":\"" + "x".repeat(50_000_000) + "\"}}";
        rejects(RawSafetensors.bytes(huge, 0), 50_000_000L + (40L << 20), "parser limit");
        String longName = "{\"" + "n".repeat(200_000) + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        rejects(longName, 1, "parser limit");
    }

    /** A small valid file with several dtypes; its last tensor is non-empty so every strict prefix is invalid. */
    private byte[] smallValidFile() throws Exception {
        Path f = dir.resolve("valid.safetensors");
        SafetensorsWriter.defaults().withMetadata(Map.of("note", "fuzz")).writeFile(f, Map.of(
                "a", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                "b", Tensor.ofInts(new int[] {7, 8, 9}, 3),
                "c", Tensor.of(new float[] {0.5f, 0.25f}, 2).to(DType.BF16)));
        return Files.readAllBytes(f);
    }

    @Test
    void everyTruncationIsRejected() throws Exception {
        byte[] full = smallValidFile();
        Path f = dir.resolve("truncated.safetensors");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int len = 0; len < full.length; len++) {
                Files.write(f, java.util.Arrays.copyOf(full, len));
                try (SafetensorsReader r = SafetensorsReader.open(f)) {
                    fail("a " + len + "-byte prefix of a " + full.length + "-byte file opened: " + r.names());
                } catch (JtuneException expected) {
                    assertTrue(expected.getMessage().contains(f.toString()), expected.getMessage());
                }
            }
        });
    }

    @Test
    void randomHeaderCorruptionNeverEscapesAsAnotherException() throws Exception {
        byte[] full = smallValidFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Path f = dir.resolve("flipped.safetensors");
        Random random = new Random(1234);
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int trial = 0; trial < 1000; trial++) {
                byte[] b = full.clone();
                int flips = 1 + random.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    int at = random.nextInt(headerEnd);
                    b[at] = random.nextBoolean() ? (byte) (b[at] ^ (1 << random.nextInt(8))) : (byte) random.nextInt(256);
                }
                Files.write(f, b);
                try (SafetensorsReader r = SafetensorsReader.open(f)) {
                    for (String name : r.names()) {
                        try {
                            Tensor t = r.get(name);
                            if (t.numel() > 0) t.toFloatArray();
                        } catch (JtuneException unsupported) {
                            // e.g. a flipped dtype letter naming a dtype jtune does not hold
                        }
                    }
                    outcomes[0]++;
                } catch (JtuneException rejected) {
                    outcomes[1]++;
                }
            }
        });
        assertTrue(outcomes[1] > 500, "most corruptions are detected: " + outcomes[0] + " opened, " + outcomes[1] + " rejected");
    }

    @Test
    void hostileShardIndexes() throws Exception {
        byte[] shard = smallValidFile();
        Files.write(dir.resolve("model-00001-of-00001.safetensors"), shard);
        Path index = dir.resolve(ShardIndex.FILE_NAME);
        String[][] cases = {
            {"{\"weight_map\":{\"a\":\"../valid.safetensors\"}}", "not a file name"},
            {"{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "not a file name"},
            {"{\"weight_map\":{\"a\":\"\"}}", "not a file name"},
            {"{\"weight_map\":{\"a\":7}}", "'a'"},
            {"{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}}", "missing"},
            {"{\"weight_map\":{\"zz\":\"model-00001-of-00001.safetensors\"}}", "'zz'"},
            {"{\"weight_map\":{\"a\":\"x\",\"a\":\"y\"}}", "Duplicate"},
            {"{\"weight_map\":[]}", "weight_map"},
            {"{\"metadata\":{\"total_size\":-5},\"weight_map\":{}}", "total_size"},
            {"{\"weight_map\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "malformed"},
            {"[]", "not a JSON object"},
            {"{} trailing", "malformed"},
        };
        for (String[] c : cases) {
            Files.writeString(index, c[0]);
            assertTimeoutPreemptively(NO_HANG, () -> {
                try (SafetensorsReader r = SafetensorsReader.open(dir)) {
                    fail("opened hostile index " + c[0] + ": " + r.names());
                } catch (JtuneException e) {
                    assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains(c[1]),
                            "'" + c[1] + "' missing from: " + e.getMessage());
                }
            });
        }
    }
}
