package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Copies between F32 and BF16 or F16 (Tensor.to, Ops.copyInto; the vector path of unit-stride runs and the element path of
 * strided ones) against {@link Half}'s scalar conversions, bit for bit (a NaN as any NaN): every 16-bit pattern widened (from
 * the heap and from off-heap memory, as a mapped checkpoint's), and random, halfway,
 * subnormal, overflowing, infinite and NaN floats (payloads and signs) narrowed, in lengths that leave vector tails, and
 * through a transposed view.
 */
class HalfConversionTest {
    private static short narrow(float f, DType t) {
        return t == DType.BF16 ? Half.floatToBf16(f) : Half.floatToF16(f);
    }

    private static float widen(short h, DType t) {
        return t == DType.BF16 ? Half.bf16ToFloat(h) : Half.f16ToFloat(h);
    }

    private static float[] awkwardFloats(int n, Rng rng) {
        float[] x = new float[n];
        float[] special = {Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, 65520f,
                1f + 0x1p-8f, 1f + 0x1p-11f, 1f + 3 * 0x1p-8f, 0x1p-24f, 0x1p-25f, 3e-5f, Float.intBitsToFloat(0x7f7fffff)};
        for (int i = 0; i < n; i++) {
            x[i] = i < special.length ? special[i]
                    : switch (i % 4) {
                        case 0 -> Float.intBitsToFloat(rng.nextInt(Integer.MAX_VALUE) * (rng.nextInt(2) == 0 ? 1 : -1)); // any bits
                        case 1 -> (rng.nextFloat() - 0.5f) * 1e5f;
                        case 2 -> (rng.nextFloat() - 0.5f) * 1e-6f;
                        default -> Half.bf16ToFloat((short) rng.nextInt(65536)) + 0x1p-9f * rng.nextFloat();
                    };
        }
        return x;
    }

    @Test
    void everySixteenBitPatternWidensAsHalfDoes() {
        short[] all = new short[65536 + 5];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            Tensor h = Tensor.zeros(t, all.length);
            for (int i = 0; i < all.length; i++) h.storage().segment().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, all[i]);
            float[] got = h.to(DType.F32).toFloatArray();
            // the same patterns in off-heap memory (as a mapped checkpoint's), one element in: the segment path, unaligned
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
                java.lang.foreign.MemorySegment seg = arena.allocate(2L * (all.length + 1));
                seg.asSlice(2).copyFrom(h.storage().segment());
                Tensor mapped = new Tensor(Storage.wrap(seg), t, new int[] {all.length}, new long[] {1}, 1);
                float[] fromMapped = mapped.to(DType.F32).toFloatArray();
                for (int i = 0; i < all.length; i++) {
                    assertEquals(Float.floatToRawIntBits(got[i]), Float.floatToRawIntBits(fromMapped[i]), t + " off-heap pattern " + Integer.toHexString(all[i] & 0xffff));
                }
            }
            for (int i = 0; i < all.length; i++) {
                float want = widen(all[i], t);
                String what = t + " pattern " + Integer.toHexString(all[i] & 0xffff);
                // a NaN stays a NaN; its quiet bit may differ (Float.float16ToFloat compiles to vcvtph2ps, which sets it)
                if (Float.isNaN(want)) assertEquals(true, Float.isNaN(got[i]), what);
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), what);
            }
        }
    }

    @Test
    void floatsNarrowAsHalfDoesContiguousOrStrided() {
        Rng rng = new Rng(81);
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            for (int n : new int[] {1, 15, 16, 17, 31, 1000, 4099}) {
                float[] x = awkwardFloats(n, rng);
                Tensor h = Tensor.of(x, n).to(t);
                for (int i = 0; i < n; i++) assertEquals(narrow(x[i], t), shortAt(h, i), t + " n " + n + " element " + i + " = " + x[i]);
            }
            float[] x = awkwardFloats(37 * 19, rng);
            Tensor tr = Tensor.of(x, 37, 19).transpose(0, 1); // (19, 37) with unit stride along neither copy's runs
            Tensor h = tr.to(t);
            for (int r = 0; r < 19; r++) {
                for (int c = 0; c < 37; c++) assertEquals(narrow(x[c * 19 + r], t), shortAt(h, r * 37 + c), t + " transposed (" + r + ", " + c + ")");
            }
        }
    }

    private static short shortAt(Tensor h, int i) {
        return h.storage().segment().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * (h.offset() + i));
    }
}
