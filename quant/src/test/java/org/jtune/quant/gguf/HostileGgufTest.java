package org.jtune.quant.gguf;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken and hostile GGUF files, written byte by byte here: each gives a GgufException whose message
 * names the problem, the key or tensor, and the byte offset — never an OutOfMemoryError from a huge
 * count, an index exception, or a hang.
 */
class HostileGgufTest {
    @TempDir
    Path dir;

    /** A little-endian byte builder for hand-made files. */
    static final class Raw {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Raw u32(long v) {
            for (int i = 0; i < 4; i++) b.write((int) (v >>> (8 * i)));
            return this;
        }

        Raw u64(long v) {
            for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)));
            return this;
        }

        Raw str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            u64(u.length);
            b.write(u, 0, u.length);
            return this;
        }

        Raw bytes(int... v) {
            for (int x : v) b.write(x);
            return this;
        }

        Raw header(long tensors, long kvs) {
            return u32(0x46554747).u32(3).u64(tensors).u64(kvs);
        }

        Raw pad(int to) {
            while (b.size() % to != 0) b.write(0);
            return this;
        }

        byte[] done() {
            return b.toByteArray();
        }
    }

    private void expect(byte[] file, String... fragments) throws Exception {
        Path p = dir.resolve("hostile.gguf");
        Files.write(p, file);
        GgufException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(GgufException.class, () -> GgufReader.open(p).close()));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    /** One valid tensor info: name, 1 dim of n F32, at data offset off. */
    private static Raw tensor(Raw r, String name, long n, int type, long off) {
        return r.str(name).u32(1).u64(n).u32(type).u64(off);
    }

    @Test
    void wrongMagicVersionOrTruncation() throws Exception {
        expect(new byte[0], "too short");
        expect(new Raw().bytes('G', 'G', 'M', 'L').u32(3).u64(0).u64(0).done(), "not a GGUF file", "47 47 4d 4c", "at byte 0");
        expect(new Raw().u32(0x46554747).u32(1).u64(0).u64(0).done(), "version 1");
        expect(new Raw().u32(0x46554747).u32(7).u64(0).u64(0).done(), "unsupported GGUF version 7");
        expect(new Raw().u32(0x46554747).u32(0x03000000).u64(0).u64(0).done(), "big-endian");
    }

    @Test
    void countsBeyondTheFile() throws Exception {
        expect(new Raw().header(0, Long.MAX_VALUE).done(), "metadata count", "bytes left");
        expect(new Raw().header(-1L, 0).done(), "tensor count 18446744073709551615");
        expect(new Raw().header(1000, 0).done(), "tensor count 1000");
    }

    @Test
    void stringsAndArraysLongerThanTheFile() throws Exception {
        expect(new Raw().header(0, 1).u64(1L << 40).u64(0).done(), "metadata key #0", "1099511627776 bytes is longer");
        expect(new Raw().header(0, 1).str("k").u32(8).u64(-2L).done(), "metadata k", "18446744073709551614 bytes");
        expect(new Raw().header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1L << 33).done(),
                "tokenizer.ggml.tokens", "an array of 8589934592 STRING values");
        expect(new Raw().header(0, 1).str("scores").u32(9).u32(6).u64(100).u32(0).done(), "scores", "100 FLOAT32");
        expect(new Raw().header(0, 1).str("k").u32(9).u32(8).u64(2).str("ok").u64(50).done(), "metadata k[1]", "longer");
    }

    @Test
    void badValues() throws Exception {
        expect(new Raw().header(0, 1).str("k").u32(13).done(), "metadata k", "unknown value type 13");
        expect(new Raw().header(0, 1).str("k").u32(7).bytes(2).done(), "a bool must be 0 or 1");
        expect(new Raw().header(0, 1).str("k").u32(8).u64(2).bytes(0xC3, 0x28).done(), "not valid UTF-8");
        expect(new Raw().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).done(), "metadata key k appears twice");
        expect(new Raw().header(0, 1).str("general.alignment").u32(4).u32(24).done(), "general.alignment 24 is not a power of two");
        expect(new Raw().header(0, 1).str("general.alignment").u32(5).u32(32).done(), "general.alignment is INT32");
        expect(new Raw().header(0, 1).str("k").u32(4).bytes(1, 2).done(), "metadata k runs past the end");
        Raw deep = new Raw().header(0, 1).str("deep");
        deep.u32(9);
        for (int i = 0; i < 100; i++) deep.u32(9).u64(1);
        deep.u32(4).u64(0);
        expect(deep.done(), "nested deeper");
    }

    @Test
    void badTensorInfos() throws Exception {
        expect(tensor(new Raw().header(1, 0), "t", 4, 99, 0).pad(32).u64(0).u64(0).done(), "tensor t", "unknown ggml type 99");
        expect(tensor(new Raw().header(1, 0), "t", 4, 4, 0).pad(32).done(), "unknown ggml type 4");
        expect(tensor(new Raw().header(1, 0), "q", 33, 8, 0).pad(32).done(), "tensor q", "not whole Q8_0 blocks of 32");
        expect(new Raw().header(1, 0).str("t").u32(5).u64(0).u64(0).done(), "tensor t", "5 dimensions");
        expect(new Raw().header(1, 0).str("t").u32(2).u64(0).u64(3).u32(0).u64(0).done(), "tensor t", "dimension 0 is 0");
        expect(new Raw().header(1, 0).str("t").u32(2).u64(-5L).u64(3).u32(0).u64(0).done(), "dimension 0 is 18446744073709551611");
        expect(new Raw().header(1, 0).str("t").u32(3).u64(1L << 32).u64(1L << 32).u64(1L << 32).u32(0).u64(0).done(), "overflows");
        expect(new Raw().header(1, 0).str("t").u32(2).u64(1L << 20).u64(1L << 20).u32(0).u64(0).pad(32).done(),
                "tensor t", "run past the end of the file");
    }

    @Test
    void dataOffsetsOutsideTheFileMisalignedOrOverlapping() throws Exception {
        expect(tensor(new Raw().header(1, 0), "t", 8, 0, 1L << 50).pad(32).u64(0).u64(0).u64(0).u64(0).done(),
                "tensor t", "at data offset 1125899906842624 run past the end");
        expect(tensor(new Raw().header(1, 0), "t", 8, 0, -32L).pad(32).u64(0).u64(0).u64(0).u64(0).done(), "run past the end");
        expect(tensor(new Raw().header(1, 0), "t", 2, 0, 4).pad(32).u64(0).u64(0).done(), "tensor t", "not a multiple of the alignment 32");
        expect(tensor(tensor(new Raw().header(2, 0), "a", 16, 0, 0), "b", 8, 0, 32).pad(32).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0).u64(0)
                .u64(0).u64(0).u64(0).u64(0).done(), "tensors a and b overlap");
        expect(tensor(tensor(new Raw().header(2, 0), "a", 2, 0, 0), "a", 2, 0, 32).pad(32).done(), "tensor a appears twice");
    }
}
