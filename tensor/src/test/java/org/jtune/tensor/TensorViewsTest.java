package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.jtune.testing.Close;
import org.junit.jupiter.api.Test;

/** Views share storage and index the data as the scalar definition says; conversions round to nearest even. */
class TensorViewsTest {
    private static Tensor iota(int... shape) {
        return Tensor.arange((int) Tensor.numel(shape)).reshape(shape);
    }

    @Test
    void transposePermuteNarrowSelectIndexTheSameData() {
        Tensor x = iota(2, 3, 4);
        Tensor p = x.permute(2, 0, 1); // (4, 2, 3)
        Tensor n = x.narrow(2, 1, 2).select(1, 2); // (2, 2)
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) {
            float v = i * 12 + j * 4 + k;
            assertEquals(v, x.get(i, j, k));
            assertEquals(v, p.get(k, i, j));
            assertEquals(v, x.transpose(0, 2).get(k, j, i));
        }
        assertArrayEquals(new float[] {9, 10, 21, 22}, n.toFloatArray());
        assertArrayEquals(new float[] {1, 3}, Tensor.arange(5).slice(0, 1, 5, 2).toFloatArray());
    }

    @Test
    void reshapeOfViewsMatchesReshapeOfCopies() {
        Rng rng = new Rng(7);
        for (int trial = 0; trial < 300; trial++) {
            int[] shape = {1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4)};
            Tensor x = iota(shape);
            int a = rng.nextInt(3), b = rng.nextInt(3);
            Tensor v = x.transpose(a, b);
            if (rng.nextInt(2) == 0) v = v.narrow(0, 0, Math.max(1, v.size(0) - 1));
            int n = (int) v.numel();
            int[] target = rng.nextInt(2) == 0 ? new int[] {n} : new int[] {v.size(0), -1};
            Tensor r = v.reshape(target);
            Tensor expected = v.contiguous().reshape(target);
            assertArrayEquals(expected.toFloatArray(), r.toFloatArray(), "reshape " + v + " to " + Arrays.toString(target));
        }
    }

    @Test
    void viewRefusesWhatNeedsACopy() {
        Tensor x = iota(3, 4).t();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.view(12));
        assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
        assertEquals(12, x.reshape(12).numel());
    }

    @Test
    void expandBroadcastsWithStrideZero() {
        Tensor row = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        Tensor e = row.expand(2, 3);
        assertEquals(0, e.stride(0));
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, e.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> row.expand(2, 4));
    }

    @Test
    void bf16AndF16RoundToNearestEven() {
        // 1 + 2^-8 lies exactly between two BF16 values (1 and 1 + 2^-7): ties go to the even one (1).
        float tie = 1f + 0x1p-8f;
        assertEquals(1f, Half.bf16ToFloat(Half.floatToBf16(tie)));
        float above = 1f + 0x1p-8f + 0x1p-20f;
        assertEquals(1f + 0x1p-7f, Half.bf16ToFloat(Half.floatToBf16(above)));
        assertTrue(Float.isNaN(Half.bf16ToFloat(Half.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Half.bf16ToFloat(Half.floatToBf16(Float.POSITIVE_INFINITY)));
        Tensor x = Tensor.of(new float[] {tie, 65504f, 1e-8f}, 3);
        assertArrayEquals(new float[] {tie, 65504f, 0f}, x.to(DType.F16).to(DType.F32).toFloatArray());
        assertArrayEquals(new float[] {1f, 65536f, 1e-8f}, x.to(DType.BF16).to(DType.F32).toFloatArray(), 1e-10f);
    }

    @Test
    void broadcastingBinaryAndMatmulOnTransposedViews() {
        Rng rng = new Rng(3);
        Tensor a = Tensor.randn(rng, 1f, 5, 1, 7);
        Tensor b = Tensor.randn(rng, 1f, 3, 7);
        Tensor s = Ops.add(a, b);
        assertArrayEquals(new int[] {5, 3, 7}, s.shape());
        double[] want = new double[5 * 3 * 7];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 7; k++)
            want[(i * 3 + j) * 7 + k] = (double) a.get(i, 0, k) + b.get(j, k);
        Close.assertClose(want, s, 1e-7, 0, "add");

        Tensor m = Tensor.randn(rng, 1f, 33, 17), n = Tensor.randn(rng, 1f, 19, 17);
        Tensor c = Ops.matmul(m, n.t());
        double[] ref = new double[33 * 19];
        for (int i = 0; i < 33; i++) for (int j = 0; j < 19; j++) {
            double acc = 0;
            for (int p = 0; p < 17; p++) acc += (double) m.get(i, p) * n.get(j, p);
            ref[i * 19 + j] = acc;
        }
        Close.assertClose(ref, c, 1e-5, 1e-5, "matmul");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(m, n));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[33, 17]"), e.getMessage());
    }
}
