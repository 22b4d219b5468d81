package org.jtune.quant.nf4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * NF4 blocks worked out by hand from bitsandbytes' definitions: the published levels, the CUDA kernel's
 * comparison tree (its thresholds are the float32 midpoints the reference backend bucketizes on), the
 * nibble order, the divide-not-multiply of a short last block, zero blocks, and double quantization of
 * three absmax values on the dynamic map.
 */
class Nf4HandComputedTest {
    /** dQuantizeNF4's thresholds in csrc/kernels.cu, in ascending order. */
    private static final double[] CUDA_TREE = {
        -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544,
        -0.23460740596055984, -0.13791173323988914, -0.045525018125772476, 0.03979014977812767,
        0.1202552504837513, 0.2035212516784668, 0.2920137718319893, 0.3893125355243683,
        0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
    };

    @Test
    void levelsAreTheNormalFloatConstants() {
        float[] l = NormalFloat4.levels();
        assertEquals(16, l.length);
        assertEquals(-1f, l[0]);
        assertEquals(0f, l[7]);
        assertEquals(1f, l[15]);
        assertEquals(0.07958029955625534f, l[8]);
        assertEquals(-0.6961928009986877f, l[1]);
        assertEquals(0.7229568362236023f, l[14]);
    }

    @Test
    void midpointsAreTheCudaKernelsThresholds() {
        float[] mid = SortedCode.midpoints(NormalFloat4.levels());
        for (int i = 0; i < 15; i++) assertEquals((float) CUDA_TREE[i], mid[i], "threshold " + i);
        for (int i = 0; i < 15; i++) {
            float t = (float) CUDA_TREE[i];
            assertEquals(i, NormalFloat4.index(t), "on threshold " + i + " the lower level");
            assertEquals(i + 1, NormalFloat4.index(Math.nextUp(t)), "just above threshold " + i);
        }
    }

    @Test
    void aBlockOf64PacksEvenIndicesHigh() {
        float[] x = new float[64];
        x[0] = 2f;                                         // absmax 2: scaled 1 → 15
        x[1] = -2f;                                        // −1 → 0
        x[2] = 0f;                                         // 0 → 7
        x[3] = 2 * 0.07958029955625534f;                   // exactly level 8
        x[4] = 2 * 0.03979014977812767f;                   // on the 7|8 midpoint → 7
        x[5] = Math.nextUp(2 * 0.03979014977812767f);      // above it → 8
        x[6] = -0.9f;                                      // −0.45: between −0.4600 and −0.3397 → 3
        x[7] = 1.5f;                                       // 0.75: above 0.6428, below 0.8615 → 14
        Nf4Tensor t = Nf4Tensor.quantize(x, 1, 64, 64, false);
        byte[] b = t.codes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        assertEquals(32, b.length);
        assertEquals(0xF0, b[0] & 0xFF);
        assertEquals(0x78, b[1] & 0xFF);
        assertEquals(0x78, b[2] & 0xFF);
        assertEquals(0x3E, b[3] & 0xFF);
        for (int i = 4; i < 32; i++) assertEquals(0x77, b[i] & 0xFF, "zeros are level 7");
        assertEquals(2f, t.scales().absmax(0));
        float[] back = t.dequantizeAll();
        assertEquals(2f, back[0]);
        assertEquals(-2f, back[1]);
        assertEquals(0f, back[2]);
        assertEquals(0.07958029955625534f * 2f, back[3]);
        assertEquals(-0.39491748809814453f * 2f, back[6]);
        assertEquals(0.7229568362236023f * 2f, back[7]);
    }

    @Test
    void blocksRunAcrossRowsAndTheLastShortBlockDivides() {
        // 2×35 = 70 values: block 0 is elements 0..63 (row 0 and most of row 1), block 1 the last 6.
        float[] x = new float[70];
        x[10] = -4f;
        x[40] = 1f;                                        // row 1, col 5, still block 0: 1/4 = 0.25 → 10
        x[64] = 3f;
        x[65] = 1f;                                        // 1/3 divided (0.33333334) → 11 (0.3379); ×(1/3) would be the same here
        x[69] = -3f;
        Nf4Tensor t = Nf4Tensor.quantize(x, 2, 35, 64, false);
        assertEquals(35, t.codes().byteSize());
        assertEquals(4f, t.scales().absmax(0));
        assertEquals(3f, t.scales().absmax(1));
        assertEquals(0, t.code(10));
        assertEquals(10, t.code(40));
        assertEquals(15, t.code(64));
        assertEquals(11, t.code(65));
        assertEquals(0, t.code(69));
        float[] row1 = new float[35];
        t.dequantizeRow(1, 0, 35, row1, 0);
        assertEquals(0.24611230194568634f * 4f, row1[5]);
        assertEquals(3f, row1[29]);
        assertEquals(-3f, row1[34]);
    }

    @Test
    void anOddCountPadsTheLastLowNibble() {
        Nf4Tensor t = Nf4Tensor.quantize(new float[] {1f, -1f, 0.5f}, 1, 3, 64, false);
        assertEquals(2, t.codes().byteSize());
        assertEquals(0xF0, t.codes().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) & 0xFF);
        assertEquals(0xC0, t.codes().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1) & 0xFF); // 0.5 → 0.4407 (12)
    }

    @Test
    void zeroBlocksKeepAZeroAbsmaxAndDequantizeToZero() {
        Nf4Tensor t = Nf4Tensor.quantize(new float[128], 2, 64, 64, false);
        assertEquals(0f, t.scales().absmax(0));
        assertArrayEquals(new float[128], t.dequantizeAll());
        assertEquals(0x77, t.codes().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 5) & 0xFF);
    }

    @Test
    void dynamicMapHas256SortedValuesWithZeroAndOne() {
        float[] c = DynamicMap.code();
        assertEquals(256, c.length);
        for (int i = 1; i < 256; i++) assertEquals(true, c[i - 1] < c[i], "strictly ascending at " + i);
        assertEquals(0f, c[127]);
        assertEquals(1f, c[255]);
        // Exponent 6 (scale 1): 64 means of linspace(0.1, 1, 65); the largest is (1 − 0.9/64 + 1)/2.
        float step = (1f - 0.1f) / 64;
        assertEquals(((1f - step) + 1f) / 2f, c[254]);
        assertEquals(-c[254], c[0]);
        // Exponent 0 (scale 1e−6): one value, the mean of 0.1 and 1.
        assertEquals((float) 1e-6 * 0.55f, c[128]);
        assertEquals(-(float) 1e-6 * 0.55f, c[126]);
    }

    @Test
    void doubleQuantizationOfThreeAbsmaxValues() {
        // absmax 1, 2, 3: offset 2, centred −1, 0, 1, one nested block (short: divides) with absmax 1.
        Nf4Scales s = Nf4Scales.doubleQuantize(new float[] {1f, 2f, 3f});
        assertEquals(2f, s.offset());
        assertArrayEquals(new float[] {1f}, s.nestedAbsmax());
        assertArrayEquals(new byte[] {0, 127, (byte) 255}, s.quantizedAbsmax());
        float[] c = DynamicMap.code();
        assertEquals(c[0] * 1f + 2f, s.absmax(0));
        assertEquals(2f, s.absmax(1));
        assertEquals(3f, s.absmax(2));
    }

    @Test
    void doubleQuantizedScalesLoadAsStored() {
        float[] code = DynamicMap.code();
        Nf4Scales s = Nf4Scales.doubleQuantized(new byte[] {(byte) 200, 10}, new float[] {0.25f}, 0.5f, code, 256);
        assertEquals(code[200] * 0.25f + 0.5f, s.absmax(0));
        assertEquals(code[10] * 0.25f + 0.5f, s.absmax(1));
        Nf4Tensor t = new Nf4Tensor(1, 128, 64, MemorySegment.ofArray(new byte[64]), s);
        float[] v = t.dequantizeAll();
        assertEquals(-1f * s.absmax(0), v[0]);                    // code 0 is −1
        assertEquals(-1f * s.absmax(1), v[127]);
    }
}
