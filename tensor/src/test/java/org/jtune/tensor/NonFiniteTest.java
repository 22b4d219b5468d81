package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** NaN and ±Inf found by their exponent bits in F32, BF16 and F16, at any position, in views too. */
class NonFiniteTest {
    @Test
    void findsTheFirstNonFiniteElementInEveryFloatingDtype() {
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int n : new int[] {1, 7, 16, 33, 1000}) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    Tensor t = Tensor.zeros(dt, n);
                    for (int i = 0; i < n; i++) t.set(i * 0.5f - 3, i);
                    assertNull(NonFinite.first(t), dt + " " + n);
                    int at = (n * 5) / 7;
                    t.set(bad, at);
                    if (at + 1 < n) t.set(Float.NaN, at + 1);
                    NonFinite.Found f = NonFinite.first(t);
                    assertNotNull(f, dt + " " + n);
                    assertEquals(at, f.index(), dt + " " + n);
                    assertArrayEquals(new int[] {at}, f.coordinates());
                    assertEquals(Float.isNaN(bad), Float.isNaN(f.value()));
                }
            }
        }
        // the largest finite values are finite
        Tensor big = Tensor.of(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE}, 3);
        assertTrue(NonFinite.isFinite(big));
        assertTrue(NonFinite.isFinite(Tensor.ofInts(new int[] {0x7F800000}, 1)), "integers are always finite");
    }

    @Test
    void coordinatesAreThoseOfTheViewNotTheStorage() {
        Tensor t = Tensor.zeros(5, 9);
        t.set(Float.POSITIVE_INFINITY, 3, 2);
        Tensor view = t.t(); // (9, 5), not contiguous
        NonFinite.Found f = NonFinite.first(view);
        assertArrayEquals(new int[] {2, 3}, f.coordinates());
        assertEquals("+Inf at [2, 3]", f.describe());
        assertNull(NonFinite.first(t.narrow(0, 0, 3)));
    }
}
