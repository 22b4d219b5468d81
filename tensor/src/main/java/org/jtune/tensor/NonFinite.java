package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Finds NaN and ±Inf in a tensor: the checks on loaded weights, on trained parameters and their
 * gradients, and before any artifact is written. A float is non-finite exactly when its exponent
 * bits are all ones (IEEE 754): {@code bits & 0x7F800000 == 0x7F800000} for F32, {@code 0x7F80}
 * for BF16 and {@code 0x7C00} for F16, tested a vector of raw bits at a time, so a model is scanned
 * at memory speed without converting anything. Integer tensors are always finite.
 */
public final class NonFinite {
    /** The first non-finite element: its flat index in row-major order, its coordinates and value. */
    public record Found(long index, int[] coordinates, float value) {
        /** "NaN at [3, 17]". */
        public String describe() {
            String what = Float.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
            return what + " at " + Arrays.toString(coordinates);
        }
    }

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORTS = ShortVector.SPECIES_PREFERRED;

    private NonFinite() {}

    public static boolean isFinite(Tensor t) {
        return first(t) == null;
    }

    /** The first non-finite element of {@code t} (any strides), or null when every element is finite. */
    public static Found first(Tensor t) {
        if (!t.dtype().isFloating() || t.numel() == 0) return null;
        if (!t.storage().isHost()) t = t.to(Device.CPU); // a scan on the host: weights are checked when they are saved or loaded
        Tensor c = t.isContiguous() ? t : t.contiguous();
        long at = firstIndex(c.storage().segment(), c.dtype(), c.offset(), c.numel());
        if (at < 0) return null;
        return new Found(at, coordinates(t.shape(), at), c.storage().getFloat(c.dtype(), c.offset() + at));
    }

    /** Index (from {@code offset}) of the first non-finite of {@code n} contiguous elements, or -1. */
    static long firstIndex(MemorySegment seg, DType dtype, long offset, long n) {
        return switch (dtype) {
            case F32 -> scan32(seg, offset * 4, n);
            case BF16 -> scan16(seg, offset * 2, n, (short) 0x7F80);
            case F16 -> scan16(seg, offset * 2, n, (short) 0x7C00);
            default -> -1;
        };
    }

    private static long scan32(MemorySegment seg, long byteOffset, long n) {
        final int exp = 0x7F800000;
        long i = 0;
        long vectorEnd = n - n % INTS.length();
        for (; i < vectorEnd; i += INTS.length()) {
            IntVector v = IntVector.fromMemorySegment(INTS, seg, byteOffset + i * 4, ByteOrder.LITTLE_ENDIAN);
            if (v.and(exp).compare(VectorOperators.EQ, exp).anyTrue()) break;
        }
        for (; i < n; i++) {
            if ((seg.get(ValueLayout.JAVA_INT_UNALIGNED, byteOffset + i * 4) & exp) == exp) return i;
        }
        return -1;
    }

    private static long scan16(MemorySegment seg, long byteOffset, long n, short exp) {
        long i = 0;
        long vectorEnd = n - n % SHORTS.length();
        for (; i < vectorEnd; i += SHORTS.length()) {
            ShortVector v = ShortVector.fromMemorySegment(SHORTS, seg, byteOffset + i * 2, ByteOrder.LITTLE_ENDIAN);
            if (v.and(exp).compare(VectorOperators.EQ, exp).anyTrue()) break;
        }
        for (; i < n; i++) {
            if ((seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset + i * 2) & exp) == exp) return i;
        }
        return -1;
    }

    private static int[] coordinates(int[] shape, long index) {
        int[] c = new int[shape.length];
        long rest = index;
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = (int) (rest % shape[d]);
            rest /= shape[d];
        }
        return c;
    }
}
