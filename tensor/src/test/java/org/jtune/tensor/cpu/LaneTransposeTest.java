package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The register 16×16 transpose against the definition dst[dOff + k·ld + i] = src[so + i·ls + k], at odd offsets and
 * strides wider than 16 (as the panel uses it), with every value distinct so that any misplaced lane shows; values
 * outside the written block must stay untouched. The machine's own path runs where the preferred vectors hold 16 or
 * 8 floats; the 8-lane path (four 8×8 blocks) runs on any machine with 256-bit vectors.
 */
class LaneTransposeTest {
    interface Transpose {
        void run(float[] src, int so, int ls, float[] dst, int dOff, int ld);
    }

    @Test
    void transposesASixteenBySixteenBlockInPlaceOfTheScalarLoop() {
        assumeTrue(LaneTranspose.AVAILABLE, "needs 16- or 8-lane float vectors");
        check(LaneTranspose::transpose16);
    }

    @Test
    void theFourEightByEightBlocksTransposeTheSame() {
        check(LaneTranspose::transpose16Lanes8);
    }

    private static void check(Transpose transpose) {
        int[][] layouts = {{0, 16, 0, 16}, {3, 37, 5, 32}, {17, 256, 100, 48}};
        for (int[] lay : layouts) {
            int so = lay[0], ls = lay[1], dOff = lay[2], ld = lay[3];
            float[] src = new float[so + 16 * ls];
            for (int i = 0; i < src.length; i++) src[i] = i + 0.5f;
            float[] dst = new float[dOff + 16 * ld + 7];
            Arrays.fill(dst, -1f);
            transpose.run(src, so, ls, dst, dOff, ld);
            for (int k = 0; k < 16; k++) {
                for (int i = 0; i < 16; i++) assertEquals(src[so + i * ls + k], dst[dOff + k * ld + i], "element (" + i + ", " + k + ")");
            }
            for (int j = 0; j < dst.length; j++) {
                int rel = j - dOff;
                boolean inside = rel >= 0 && rel / ld < 16 && rel % ld < 16;
                if (!inside) assertEquals(-1f, dst[j], "value outside the block at " + j);
            }
        }
    }
}
