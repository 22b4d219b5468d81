package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 16×16 block of floats transposed in vector registers. With 16-lane, 512-bit vectors: sixteen row loads, four
 * rounds of eight pairs of two-source lane selections ({@code selectFrom(v, w)}, one vpermi2ps each on AVX-512), sixteen
 * column stores. Round h (= 8, 4, 2, 1) exchanges element (i, l) with (i ^ h, l ^ h) wherever bit h of the row i and
 * of the lane l differ (the recursive block transpose: after every bit is exchanged, (i, l) has moved to (l, i)).
 * {@link BlockPanelGemm} builds its transposed weight panel with it: 64 selections per 256 values against 256 scalar
 * stores 128 bytes apart (the panel's dequantize-and-transpose went from 5.1 to 2.9 ms per 5632×2048 Q4_0 weight).
 * With 8-lane, 256-bit vectors (AVX2) the block is four 8×8 blocks, each transposed by the same rounds h = 4, 2, 1 of
 * {@link #transpose8} and stored at its mirrored place.
 */
final class LaneTranspose {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** Whether {@link #transpose16} can run: the preferred vectors hold 16 or 8 floats. */
    static final boolean AVAILABLE = F.length() == 16 || F.length() == 8;
    private static final boolean LANES16 = F.length() == 16;
    // LOr/HIr: the lanes of the new row i (bit h clear) and i + h, as indexes into the pair (row i, row i + h)
    private static final FloatVector LO0 = select(8, true), HI0 = select(8, false), LO1 = select(4, true), HI1 = select(4, false);
    private static final FloatVector LO2 = select(2, true), HI2 = select(2, false), LO3 = select(1, true), HI3 = select(1, false);
    // the same lane selections for 8 lanes, rounds h = 4, 2, 1
    private static final FloatVector LO4_8 = select8(4, true), HI4_8 = select8(4, false), LO2_8 = select8(2, true), HI2_8 = select8(2, false);
    private static final FloatVector LO1_8 = select8(1, true), HI1_8 = select8(1, false);

    private LaneTranspose() {}

    /** new row i[l] = l has bit h ? row i + h[l − h] : row i[l];  new row i + h[l] = l has bit h ? row i + h[l] : row i[l + h]. */
    private static FloatVector select(int h, boolean low) {
        return LANES16 ? FloatVector.fromArray(F, indexes(16, h, low), 0) : null;
    }

    private static FloatVector select8(int h, boolean low) {
        return FloatVector.fromArray(F8, indexes(8, h, low), 0);
    }

    private static float[] indexes(int n, int h, boolean low) {
        float[] a = new float[n];
        for (int l = 0; l < n; l++) a[l] = low ? ((l & h) == 0 ? l : n + l - h) : ((l & h) == 0 ? l + h : n + l);
        return a;
    }

    /** dst[dOff + k·ld + i] = src[so + i·ls + k] for i, k in [0, 16); needs {@link #AVAILABLE}. */
    static void transpose16(float[] src, int so, int ls, float[] dst, int dOff, int ld) {
        if (LANES16) {
            transpose16Lanes16(src, so, ls, dst, dOff, ld);
        } else {
            transpose16Lanes8(src, so, ls, dst, dOff, ld);
        }
    }

    /** {@link #transpose16} as four 8×8 blocks of 256-bit vectors (runs on any machine with them; the test calls it directly). */
    static void transpose16Lanes8(float[] src, int so, int ls, float[] dst, int dOff, int ld) {
        transpose8(src, so, ls, dst, dOff, ld);
        transpose8(src, so + 8, ls, dst, dOff + 8 * ld, ld);
        transpose8(src, so + 8 * ls, ls, dst, dOff + 8, ld);
        transpose8(src, so + 8 * ls + 8, ls, dst, dOff + 8 * ld + 8, ld);
    }

    /** dst[dOff + k·ld + i] = src[so + i·ls + k] for i, k in [0, 8), with 8-lane vectors (on any machine that has them). */
    static void transpose8(float[] src, int so, int ls, float[] dst, int dOff, int ld) {
        FloatVector v0 = FloatVector.fromArray(F8, src, so + 0 * ls);
        FloatVector v1 = FloatVector.fromArray(F8, src, so + 1 * ls);
        FloatVector v2 = FloatVector.fromArray(F8, src, so + 2 * ls);
        FloatVector v3 = FloatVector.fromArray(F8, src, so + 3 * ls);
        FloatVector v4 = FloatVector.fromArray(F8, src, so + 4 * ls);
        FloatVector v5 = FloatVector.fromArray(F8, src, so + 5 * ls);
        FloatVector v6 = FloatVector.fromArray(F8, src, so + 6 * ls);
        FloatVector v7 = FloatVector.fromArray(F8, src, so + 7 * ls);
        // exchange lanes l with bit 4 against rows i with bit 4
        FloatVector h4t0 = LO4_8.selectFrom(v0, v4);
        v4 = HI4_8.selectFrom(v0, v4);
        v0 = h4t0;
        FloatVector h4t1 = LO4_8.selectFrom(v1, v5);
        v5 = HI4_8.selectFrom(v1, v5);
        v1 = h4t1;
        FloatVector h4t2 = LO4_8.selectFrom(v2, v6);
        v6 = HI4_8.selectFrom(v2, v6);
        v2 = h4t2;
        FloatVector h4t3 = LO4_8.selectFrom(v3, v7);
        v7 = HI4_8.selectFrom(v3, v7);
        v3 = h4t3;
        // exchange lanes l with bit 2 against rows i with bit 2
        FloatVector h2t0 = LO2_8.selectFrom(v0, v2);
        v2 = HI2_8.selectFrom(v0, v2);
        v0 = h2t0;
        FloatVector h2t1 = LO2_8.selectFrom(v1, v3);
        v3 = HI2_8.selectFrom(v1, v3);
        v1 = h2t1;
        FloatVector h2t4 = LO2_8.selectFrom(v4, v6);
        v6 = HI2_8.selectFrom(v4, v6);
        v4 = h2t4;
        FloatVector h2t5 = LO2_8.selectFrom(v5, v7);
        v7 = HI2_8.selectFrom(v5, v7);
        v5 = h2t5;
        // exchange lanes l with bit 1 against rows i with bit 1
        FloatVector h1t0 = LO1_8.selectFrom(v0, v1);
        v1 = HI1_8.selectFrom(v0, v1);
        v0 = h1t0;
        FloatVector h1t2 = LO1_8.selectFrom(v2, v3);
        v3 = HI1_8.selectFrom(v2, v3);
        v2 = h1t2;
        FloatVector h1t4 = LO1_8.selectFrom(v4, v5);
        v5 = HI1_8.selectFrom(v4, v5);
        v4 = h1t4;
        FloatVector h1t6 = LO1_8.selectFrom(v6, v7);
        v7 = HI1_8.selectFrom(v6, v7);
        v6 = h1t6;
        v0.intoArray(dst, dOff + 0 * ld);
        v1.intoArray(dst, dOff + 1 * ld);
        v2.intoArray(dst, dOff + 2 * ld);
        v3.intoArray(dst, dOff + 3 * ld);
        v4.intoArray(dst, dOff + 4 * ld);
        v5.intoArray(dst, dOff + 5 * ld);
        v6.intoArray(dst, dOff + 6 * ld);
        v7.intoArray(dst, dOff + 7 * ld);
    }

    private static void transpose16Lanes16(float[] src, int so, int ls, float[] dst, int dOff, int ld) {
        FloatVector v0 = FloatVector.fromArray(F, src, so + 0 * ls);
        FloatVector v1 = FloatVector.fromArray(F, src, so + 1 * ls);
        FloatVector v2 = FloatVector.fromArray(F, src, so + 2 * ls);
        FloatVector v3 = FloatVector.fromArray(F, src, so + 3 * ls);
        FloatVector v4 = FloatVector.fromArray(F, src, so + 4 * ls);
        FloatVector v5 = FloatVector.fromArray(F, src, so + 5 * ls);
        FloatVector v6 = FloatVector.fromArray(F, src, so + 6 * ls);
        FloatVector v7 = FloatVector.fromArray(F, src, so + 7 * ls);
        FloatVector v8 = FloatVector.fromArray(F, src, so + 8 * ls);
        FloatVector v9 = FloatVector.fromArray(F, src, so + 9 * ls);
        FloatVector v10 = FloatVector.fromArray(F, src, so + 10 * ls);
        FloatVector v11 = FloatVector.fromArray(F, src, so + 11 * ls);
        FloatVector v12 = FloatVector.fromArray(F, src, so + 12 * ls);
        FloatVector v13 = FloatVector.fromArray(F, src, so + 13 * ls);
        FloatVector v14 = FloatVector.fromArray(F, src, so + 14 * ls);
        FloatVector v15 = FloatVector.fromArray(F, src, so + 15 * ls);
        // exchange lanes l with bit 8 against rows i with bit 8: (i, l) ↔ (i ^ 8, l ^ 8) where the bits differ
        FloatVector r1t0 = LO0.selectFrom(v0, v8);
        v8 = HI0.selectFrom(v0, v8);
        v0 = r1t0;
        FloatVector r1t1 = LO0.selectFrom(v1, v9);
        v9 = HI0.selectFrom(v1, v9);
        v1 = r1t1;
        FloatVector r1t2 = LO0.selectFrom(v2, v10);
        v10 = HI0.selectFrom(v2, v10);
        v2 = r1t2;
        FloatVector r1t3 = LO0.selectFrom(v3, v11);
        v11 = HI0.selectFrom(v3, v11);
        v3 = r1t3;
        FloatVector r1t4 = LO0.selectFrom(v4, v12);
        v12 = HI0.selectFrom(v4, v12);
        v4 = r1t4;
        FloatVector r1t5 = LO0.selectFrom(v5, v13);
        v13 = HI0.selectFrom(v5, v13);
        v5 = r1t5;
        FloatVector r1t6 = LO0.selectFrom(v6, v14);
        v14 = HI0.selectFrom(v6, v14);
        v6 = r1t6;
        FloatVector r1t7 = LO0.selectFrom(v7, v15);
        v15 = HI0.selectFrom(v7, v15);
        v7 = r1t7;
        // exchange lanes l with bit 4 against rows i with bit 4: (i, l) ↔ (i ^ 4, l ^ 4) where the bits differ
        FloatVector r2t0 = LO1.selectFrom(v0, v4);
        v4 = HI1.selectFrom(v0, v4);
        v0 = r2t0;
        FloatVector r2t1 = LO1.selectFrom(v1, v5);
        v5 = HI1.selectFrom(v1, v5);
        v1 = r2t1;
        FloatVector r2t2 = LO1.selectFrom(v2, v6);
        v6 = HI1.selectFrom(v2, v6);
        v2 = r2t2;
        FloatVector r2t3 = LO1.selectFrom(v3, v7);
        v7 = HI1.selectFrom(v3, v7);
        v3 = r2t3;
        FloatVector r2t8 = LO1.selectFrom(v8, v12);
        v12 = HI1.selectFrom(v8, v12);
        v8 = r2t8;
        FloatVector r2t9 = LO1.selectFrom(v9, v13);
        v13 = HI1.selectFrom(v9, v13);
        v9 = r2t9;
        FloatVector r2t10 = LO1.selectFrom(v10, v14);
        v14 = HI1.selectFrom(v10, v14);
        v10 = r2t10;
        FloatVector r2t11 = LO1.selectFrom(v11, v15);
        v15 = HI1.selectFrom(v11, v15);
        v11 = r2t11;
        // exchange lanes l with bit 2 against rows i with bit 2: (i, l) ↔ (i ^ 2, l ^ 2) where the bits differ
        FloatVector r3t0 = LO2.selectFrom(v0, v2);
        v2 = HI2.selectFrom(v0, v2);
        v0 = r3t0;
        FloatVector r3t1 = LO2.selectFrom(v1, v3);
        v3 = HI2.selectFrom(v1, v3);
        v1 = r3t1;
        FloatVector r3t4 = LO2.selectFrom(v4, v6);
        v6 = HI2.selectFrom(v4, v6);
        v4 = r3t4;
        FloatVector r3t5 = LO2.selectFrom(v5, v7);
        v7 = HI2.selectFrom(v5, v7);
        v5 = r3t5;
        FloatVector r3t8 = LO2.selectFrom(v8, v10);
        v10 = HI2.selectFrom(v8, v10);
        v8 = r3t8;
        FloatVector r3t9 = LO2.selectFrom(v9, v11);
        v11 = HI2.selectFrom(v9, v11);
        v9 = r3t9;
        FloatVector r3t12 = LO2.selectFrom(v12, v14);
        v14 = HI2.selectFrom(v12, v14);
        v12 = r3t12;
        FloatVector r3t13 = LO2.selectFrom(v13, v15);
        v15 = HI2.selectFrom(v13, v15);
        v13 = r3t13;
        // exchange lanes l with bit 1 against rows i with bit 1: (i, l) ↔ (i ^ 1, l ^ 1) where the bits differ
        FloatVector r4t0 = LO3.selectFrom(v0, v1);
        v1 = HI3.selectFrom(v0, v1);
        v0 = r4t0;
        FloatVector r4t2 = LO3.selectFrom(v2, v3);
        v3 = HI3.selectFrom(v2, v3);
        v2 = r4t2;
        FloatVector r4t4 = LO3.selectFrom(v4, v5);
        v5 = HI3.selectFrom(v4, v5);
        v4 = r4t4;
        FloatVector r4t6 = LO3.selectFrom(v6, v7);
        v7 = HI3.selectFrom(v6, v7);
        v6 = r4t6;
        FloatVector r4t8 = LO3.selectFrom(v8, v9);
        v9 = HI3.selectFrom(v8, v9);
        v8 = r4t8;
        FloatVector r4t10 = LO3.selectFrom(v10, v11);
        v11 = HI3.selectFrom(v10, v11);
        v10 = r4t10;
        FloatVector r4t12 = LO3.selectFrom(v12, v13);
        v13 = HI3.selectFrom(v12, v13);
        v12 = r4t12;
        FloatVector r4t14 = LO3.selectFrom(v14, v15);
        v15 = HI3.selectFrom(v14, v15);
        v14 = r4t14;
        v0.intoArray(dst, dOff + 0 * ld);
        v1.intoArray(dst, dOff + 1 * ld);
        v2.intoArray(dst, dOff + 2 * ld);
        v3.intoArray(dst, dOff + 3 * ld);
        v4.intoArray(dst, dOff + 4 * ld);
        v5.intoArray(dst, dOff + 5 * ld);
        v6.intoArray(dst, dOff + 6 * ld);
        v7.intoArray(dst, dOff + 7 * ld);
        v8.intoArray(dst, dOff + 8 * ld);
        v9.intoArray(dst, dOff + 9 * ld);
        v10.intoArray(dst, dOff + 10 * ld);
        v11.intoArray(dst, dOff + 11 * ld);
        v12.intoArray(dst, dOff + 12 * ld);
        v13.intoArray(dst, dOff + 13 * ld);
        v14.intoArray(dst, dOff + 14 * ld);
        v15.intoArray(dst, dOff + 15 * ld);
    }
}
