package org.jtune.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Blocks worked out by hand from ggml's definitions (no peer needed): the byte layout of each format,
 * roundf's ties away from zero in Q8_0, Q4_0's signed maximum and clamp at 15, the 6-bit scale/min
 * packing of Q4_K and the bit-plane layout of Q6_K.
 */
class HandComputedBlocksTest {
    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        float[] head = {-127f, -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 126.5f, 3.25f};
        System.arraycopy(head, 0, x, 0, head.length);
        byte[] q = Q8_0Format.INSTANCE.quantize(x);
        assertEquals(34, q.length);
        assertEquals(0x00, q[0] & 0xFF);               // d = 127/127 = 1.0 = F16 0x3C00, little-endian
        assertEquals(0x3C, q[1] & 0xFF);
        byte[] expected = {-127, -3, -2, -1, 1, 2, 3, 127, 3};
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], q[2 + i], "q[" + i + "]");
        for (int i = expected.length; i < 32; i++) assertEquals(0, q[2 + i]);
        float[] back = Q8_0Format.INSTANCE.dequantize(q, 32);
        assertEquals(-3f, back[1]);
        assertEquals(127f, back[7]);
    }

    @Test
    void q4_0UsesTheSignedMaximumAndClampsAt15() {
        float[] x = new float[32];
        // The first value of largest magnitude is +8 → d = 8/−8 = −1, 1/d = −1: q = min(15, trunc(−x + 8.5)).
        float[] head = {8f, -8f, 7.4f, -7.6f, 0.49f, -0.5f, 3f};
        System.arraycopy(head, 0, x, 0, head.length);
        x[16] = -2f;                                       // the high nibble of byte 0
        byte[] q = Q4_0Format.INSTANCE.quantize(x);
        assertEquals(18, q.length);
        assertEquals(0x00, q[0] & 0xFF);                   // −1.0 = F16 0xBC00
        assertEquals(0xBC, q[1] & 0xFF);
        int[] lo = {0, 15, 1, 15, 8, 9, 5};                // trunc(0.5), min(15, 16), trunc(1.1), min(15, 16.1), 8.01, 9.0, 5.5
        for (int i = 0; i < lo.length; i++) assertEquals(lo[i], q[2 + i] & 0x0F, "low nibble " + i);
        assertEquals(10, (q[2] & 0xFF) >>> 4);             // x16 = −2: trunc(2 + 8.5) = 10
        float[] back = Q4_0Format.INSTANCE.dequantize(q, 32);
        assertEquals(8f, back[0]);                         // (0 − 8)·(−1)
        assertEquals(-7f, back[1]);                        // −8 clamps to q = 15 → −7
        assertEquals(-2f, back[16]);
    }

    @Test
    void q4_kScalesAndMinsArePackedInSixBits() {
        byte[] block = new byte[144];
        block[0] = 0x00;                                   // d = 1.0
        block[1] = 0x3C;
        block[2] = 0x00;                                   // dmin = 0.5 (F16 0x3800)
        block[3] = 0x38;
        int[] sc = {1, 2, 3, 63, 17, 40, 5, 33};
        int[] m = {0, 7, 63, 1, 50, 2, 16, 9};
        for (int j = 0; j < 4; j++) {                      // get_scale_min_k4, written out
            block[4 + j] = (byte) (sc[j] | ((sc[j + 4] >> 4) << 6));
            block[4 + j + 4] = (byte) (m[j] | ((m[j + 4] >> 4) << 6));
            block[4 + j + 8] = (byte) ((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
        }
        for (int i = 0; i < 128; i++) block[16 + i] = (byte) ((i % 16) | ((15 - i % 16) << 4));
        float[] w = Q4KFormat.INSTANCE.dequantize(block, 256);
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < 32; i++) {
                int lo = (32 * c + i) % 16, hi = 15 - lo;
                assertEquals(sc[2 * c] * lo - 0.5f * m[2 * c], w[64 * c + i], "sub-block " + 2 * c + " weight " + i);
                assertEquals(sc[2 * c + 1] * hi - 0.5f * m[2 * c + 1], w[64 * c + 32 + i], "sub-block " + (2 * c + 1) + " weight " + i);
            }
        }
    }

    @Test
    void q6_kBitPlanes() {
        byte[] block = new byte[210];
        block[208] = 0x00;                                 // d = 0.5 (F16 0x3800)
        block[209] = 0x38;
        for (int g = 0; g < 16; g++) block[192 + g] = (byte) (g % 2 == 0 ? g + 1 : -(g + 1));
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) q[i] = (i * 37 + 11) % 64;
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int j = 128 * h + l;
                block[64 * h + l] = (byte) ((q[j] & 0xF) | ((q[j + 64] & 0xF) << 4));
                block[64 * h + l + 32] = (byte) ((q[j + 32] & 0xF) | ((q[j + 96] & 0xF) << 4));
                block[128 + 32 * h + l] = (byte) ((q[j] >> 4) | ((q[j + 32] >> 4) << 2) | ((q[j + 64] >> 4) << 4) | ((q[j + 96] >> 4) << 6));
            }
        }
        float[] w = Q6KFormat.INSTANCE.dequantize(block, 256);
        for (int i = 0; i < 256; i++) {
            int g = i / 16;
            int scale = g % 2 == 0 ? g + 1 : -(g + 1);
            assertEquals(0.5f * scale * (q[i] - 32), w[i], "weight " + i);
        }
    }

    @Test
    void zeroRowsStayZeroAndKeepAZeroScale() {
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            float[] zeros = new float[t.blockSize() * 2];
            assertArrayEquals(zeros, t.format().dequantize(t.format().quantize(zeros), zeros.length), 0f, t.name()); // Q4_0 gives −0.0: d = 0/−8
        }
    }

    @Test
    void rowsThatAreNotWholeBlocksAreRefused() {
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.format().quantize(new float[172]));
            assertEquals(true, e.getMessage().contains("172"), e.getMessage());
        }
    }

    @Test
    void typeTableMatchesGgmlCommonH() {
        assertEquals(34, GgmlType.Q8_0.blockBytes());
        assertEquals(18, GgmlType.Q4_0.blockBytes());
        assertEquals(144, GgmlType.Q4_K.blockBytes());                // 2·2 + 12 + 256/2
        assertEquals(210, GgmlType.Q6_K.blockBytes());                // 2 + 256/16 + 3·256/4
        assertEquals(GgmlType.Q4_K, GgmlType.byId(12));
        assertEquals(GgmlType.BF16, GgmlType.byId(30));
        assertEquals(null, GgmlType.byId(4));                         // Q4_2: removed from ggml
        assertEquals(GgmlType.Q6_K, GgmlType.byName("q6_k"));
    }
}
