package org.jtune.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our quantizers against ggml's own (the libggml-base.so of node-llama-cpp, called through FFM):
 * identical bytes from quantizeRow and {@code quantize_row_*_ref}, identical floats from dequantizeRow
 * and {@code dequantize_row_*} on our bytes and on random bytes, for Q8_0, Q4_0, Q4_K, Q6_K, F16 and
 * BF16 (and Q5_0) on the rows of {@link TestRows} of several lengths. Skips when the peer is not installed.
 */
class GgmlBitExactnessTest {
    private static GgmlReference ggml;

    @BeforeAll
    static void load() {
        ggml = new GgmlReference(LlamaCppLibraries.require());
    }

    @AfterAll
    static void close() {
        if (ggml != null) ggml.close();
    }

    @Test
    void quantizedBytesAreGgmlsReferenceBytes() {
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            BlockFormat f = type.format();
            for (int blocks : new int[] {1, 3, 8}) {
                int n = blocks * type.blockSize();
                for (TestRows.Row row : TestRows.rows(n, 1000L * blocks + type.id())) {
                    byte[] ours = f.quantize(row.values());
                    byte[] theirs = ggml.quantize(type, row.values());
                    assertArrayEquals(theirs, ours, type + " " + row.name() + " n=" + n);
                    assertArrayEquals(bits(ggml.dequantize(type, theirs, n)), bits(f.dequantize(ours, n)),
                            type + " dequantized " + row.name() + " n=" + n);
                }
            }
        }
    }

    @Test
    void manyRandomRowsQuantizeAlike() {
        Random r = new Random(7);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            BlockFormat f = type.format();
            int n = 4 * type.blockSize();
            for (int t = 0; t < 300; t++) {
                float scale = (float) Math.pow(10, r.nextInt(7) - 3);
                float shift = r.nextInt(4) == 0 ? (float) r.nextGaussian() * scale : 0f;
                float[] x = TestRows.fill(n, i -> (float) r.nextGaussian() * scale + shift);
                assertArrayEquals(ggml.quantize(type, x), f.quantize(x), type + " random row " + t);
            }
        }
    }

    @Test
    void randomBytesDequantizeAlike() {
        Random r = new Random(11);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            BlockFormat f = type.format();
            int n = 5 * type.blockSize();
            for (int t = 0; t < 50; t++) {
                byte[] bytes = new byte[(int) type.rowBytes(n)];
                r.nextBytes(bytes);
                clearF16Exponents(type, bytes);
                assertArrayEquals(bits(ggml.dequantize(type, bytes, n)), bits(f.dequantize(bytes, n)), type + " random bytes " + t);
            }
        }
    }

    @Test
    void halfPrecisionConversionsAreGgmls() {
        Random r = new Random(3);
        float[] x = TestRows.fill(4096, i -> switch (i % 8) {
            case 0 -> Float.intBitsToFloat(r.nextInt());                 // any bits: NaN, Inf, subnormals
            case 1 -> (float) r.nextGaussian() * 1e-6f;                  // F16 subnormals
            case 2 -> (float) r.nextGaussian() * 70000f;                 // F16 overflow
            default -> (float) r.nextGaussian();
        });
        for (int i = 0; i < x.length; i++) if (Float.isNaN(x[i])) x[i] = 1f;   // NaN payloads are not specified alike
        assertArrayEquals(ggml.convert(GgmlType.F16, x), F16Format.INSTANCE.quantize(x), "F16");
        assertArrayEquals(ggml.convert(GgmlType.BF16, x), Bf16Format.INSTANCE.quantize(x), "BF16");
    }

    /** Keeps the F16 scale fields of random blocks finite (NaN payloads are not part of the contract). */
    private static void clearF16Exponents(GgmlType type, byte[] bytes) {
        int bb = type.blockBytes();
        int[] fields = switch (type) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> new int[0];
        };
        for (int b = 0; b < bytes.length / bb; b++) {
            for (int off : fields) bytes[b * bb + off + 1] &= (byte) 0xBB;   // exponent bits 0x7C00 never all set
        }
    }

    private static int[] bits(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Float.floatToRawIntBits(a[i]);
        return out;
    }
}
