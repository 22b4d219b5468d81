package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.NativeMemory;

/**
 * The row blocks of the multi-row GEMV ({@link Gemv}): rows [0, m − m mod 4) of packed A (K floats each) against one
 * group of four weight rows (K contiguous: heap F32, or an F32 or BF16 segment widened in registers), C[r, j..j+cols)
 * stored or added. A block of rows against the four weight rows keeps one vector accumulator per (row, weight row):
 * with 16 lanes six rows (24 accumulators, 10 loads per 24 FMAs) while the rest stays a multiple of four, then fours (16,
 * 8 loads per 16); with 8 lanes fours only ({@link #DEFAULT_TILE_ROWS}).
 *
 * <p>Sums: each accumulator adds its lanes over k in order, as the one-row loop does; its lanes are then summed in
 * the fixed order lane 0, 1, 2, … ({@code VectorMath.sum}) for sixteen outputs at once, by transposing sixteen
 * accumulators ({@link LaneTranspose}) and adding the transposed rows in order (the same additions per lane, so the
 * same bits; extracting the lanes one by one costs ~60 instructions per output); then the scalar tail over
 * [K − K mod L, K) in order. So a row's outputs have the bits of that row multiplied alone.
 *
 * <p>Native weights (the caller checked bounds and liveness once) load at absolute addresses through {@link NativeMemory#ALL},
 * a constant of exact class, in kernels of their own ({@code …Native}): loads through the weight's own segment (a mapped
 * file) compile through a type switch once the JVM-wide profiles under {@code FloatVector.fromMemorySegment} have seen
 * other segment classes (see {@code Gemv.dotsNative}). The kernels differ only in that.
 */
final class RowBlockDots {
    private static final VectorSpecies<Float> S = HalfVectors.F;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Rows per block by default: six with 16 lanes; four with 8, where six rows' 24 accumulators do not fit AVX2's 16
     * registers (Zen 3, 8 layers of the 1.1B shape, a decode step of 16 rows: BF16 233–242 ms in blocks of six against
     * 204–207 in fours, F32 252–261 against 222; 2026-12-07).
     */
    static final int DEFAULT_TILE_ROWS = L == 16 ? 6 : 4;
    /** Rows per block: 6, or 4 (benchmarks compare, {@code jtune.gemv.tileRows}). */
    private static volatile int tileRows = Integer.getInteger("jtune.gemv.tileRows", DEFAULT_TILE_ROWS);
    /** Lane sums through the transpose (true), or one output at a time (benchmarks compare). */
    private static volatile boolean transposedSums = !"false".equals(System.getProperty("jtune.gemv.transposedSums"));

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private RowBlockDots() {}

    static void setTileRows(int rows) {
        tileRows = rows == 4 ? 4 : 6;
    }

    static void setTransposedSums(boolean on) {
        transposedSums = on;
    }

    /** Rows in blocks of six: as many as leave a multiple of four (12 → 6 + 6, 16 → 6 + 6 + 4, 8 → 4 + 4). */
    private static int sixRows(int rows) {
        return tileRows == 6 ? rows / 12 * 12 : 0;
    }

    /** Four accumulators per row of m (and a block's worth beyond), then 16 transposed vectors, then the sums. */
    private static float[] scratch(int m) {
        float[][] holder = SCRATCH.get();
        int size = (4 * m + 32) * L + 4 * m + 32;
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }

    /**
     * Heap F32 weight rows at w[w0..], …, w[w3..] (short groups repeat their last row) against rows [0, m − m mod 4)
     * of a; C rows at c[oc + r·ldc].
     */
    static void heap(float[] a, int m, int k, float[] w, int w0, int w1, int w2, int w3, float[] c, int oc, int ldc,
                     int cols, boolean accumulate) {
        int bound = k - k % L;
        float[] s = scratch(m);
        int rows = m - m % 4;
        int sixRows = sixRows(rows);
        int r = 0;
        for (; r < sixRows; r += 6) sixHeap(a, r * k, k, w, w0, w1, w2, w3, bound, s, 4 * r * L);
        for (; r < rows; r += 4) fourHeap(a, r * k, k, w, w0, w1, w2, w3, bound, s, 4 * r * L);
        int sums = laneSums(s, rows, bound);
        for (r = 0; r < rows; r++) {
            int ar = r * k, o = sums + 4 * r;
            Gemv.store(c, oc + r * ldc, cols, accumulate, tail(s[o], a, ar, w, w0, bound, k), tail(s[o + 1], a, ar, w, w1, bound, k),
                    tail(s[o + 2], a, ar, w, w2, bound, k), tail(s[o + 3], a, ar, w, w3, bound, k));
        }
    }

    /**
     * F32 ({@code bf16} false) or BF16 weight rows at element indices i0..i3 of b's segment, widened in registers: loaded
     * through b's segment, or ({@code absolute}, for a native segment whose bounds and liveness the caller checked) at
     * native address {@code b.segment().address()} + i·(element size) through {@link NativeMemory#ALL} (see
     * {@code Gemv.dotsNative}: same loads, a segment of exact class). Same sums, same bits either way.
     */
    static void segment(float[] a, int m, int k, StridedMatrix b, boolean bf16, boolean absolute, long i0, long i1, long i2,
                        long i3, float[] c, int oc, int ldc, int cols, boolean accumulate) {
        int bound = k - k % L;
        float[] s = scratch(m);
        MemorySegment seg = b.segment();
        int shift = bf16 ? 1 : 2;
        long base = absolute ? seg.address() : 0;
        long y0 = base + (i0 << shift), y1 = base + (i1 << shift), y2 = base + (i2 << shift), y3 = base + (i3 << shift);
        int rows = m - m % 4;
        int sixRows = sixRows(rows);
        int r = 0;
        for (; r < sixRows; r += 6) {
            if (absolute) {
                if (bf16) sixBf16Native(a, r * k, k, y0, y1, y2, y3, bound, s, 4 * r * L);
                else sixF32Native(a, r * k, k, y0, y1, y2, y3, bound, s, 4 * r * L);
            } else {
                if (bf16) sixBf16(a, r * k, k, seg, y0, y1, y2, y3, bound, s, 4 * r * L);
                else sixF32(a, r * k, k, seg, y0, y1, y2, y3, bound, s, 4 * r * L);
            }
        }
        for (; r < rows; r += 4) {
            if (absolute) {
                if (bf16) fourBf16Native(a, r * k, k, y0, y1, y2, y3, bound, s, 4 * r * L);
                else fourF32Native(a, r * k, k, y0, y1, y2, y3, bound, s, 4 * r * L);
            } else {
                if (bf16) fourBf16(a, r * k, k, seg, y0, y1, y2, y3, bound, s, 4 * r * L);
                else fourF32(a, r * k, k, seg, y0, y1, y2, y3, bound, s, 4 * r * L);
            }
        }
        int sums = laneSums(s, rows, bound);
        for (r = 0; r < rows; r++) {
            int ar = r * k, o = sums + 4 * r;
            Gemv.store(c, oc + r * ldc, cols, accumulate, tail(s[o], a, ar, b, i0, bound, k), tail(s[o + 1], a, ar, b, i1, bound, k),
                    tail(s[o + 2], a, ar, b, i2, bound, k), tail(s[o + 3], a, ar, b, i3, bound, k));
        }
    }

    /**
     * The fixed-order lane sums of the 4·rows accumulators at s[q·L] (q = 4·row + weight row), written from the
     * returned index on, L at a time (zero when K has no full vector). The sums area follows the accumulators and a
     * block of 16 transposed vectors; a last partial group of L reads accumulators past 4·rows, whose sums are unused.
     */
    private static int laneSums(float[] s, int rows, int bound) {
        int count = 4 * rows, tr = (count + 16) * L, sums = tr + 16 * L;
        if (bound == 0) {
            Arrays.fill(s, sums, sums + count, 0f);
        } else if (LaneTranspose.AVAILABLE && transposedSums) {
            for (int q = 0; q < count; q += L) {   // s[tr + l·L + i] = accumulator q + i's lane l
                if (L == 16) LaneTranspose.transpose16(s, q * L, L, s, tr, L);
                else LaneTranspose.transpose8(s, q * L, L, s, tr, L);
                FloatVector sum = FloatVector.fromArray(S, s, tr);
                for (int l = 1; l < L; l++) sum = sum.add(FloatVector.fromArray(S, s, tr + l * L));
                sum.intoArray(s, sums + q);
            }
        } else {
            for (int q = 0; q < count; q++) {
                float d = s[q * L];
                for (int l = 1; l < L; l++) d += s[q * L + l];
                s[sums + q] = d;
            }
        }
        return sums;
    }

    private static float tail(float d, float[] a, int ao, float[] w, int wo, int bound, int k) {
        for (int t = bound; t < k; t++) d += a[ao + t] * w[wo + t];
        return d;
    }

    private static float tail(float d, float[] a, int ao, StridedMatrix b, long wi, int bound, int k) {
        for (int t = bound; t < k; t++) d += a[ao + t] * b.at(wi + t);
        return d;
    }

    /** Six rows at a[ao + i·k] against heap weight rows over k in [0, bound); accumulators to s[so + q·L], q = 4·i + j. */
    private static void sixHeap(float[] a, int ao, int k, float[] w, int w0, int w1, int w2, int w3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z, s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z, s40 = z, s41 = z, s42 = z, s43 = z, s50 = z, s51 = z, s52 = z, s53 = z;
        for (int t = 0; t < bound; t += L) {
            FloatVector v0 = FloatVector.fromArray(S, w, w0 + t), v1 = FloatVector.fromArray(S, w, w1 + t);
            FloatVector v2 = FloatVector.fromArray(S, w, w2 + t), v3 = FloatVector.fromArray(S, w, w3 + t);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
            x = FloatVector.fromArray(S, a, a4 + t);
            s40 = v0.fma(x, s40); s41 = v1.fma(x, s41); s42 = v2.fma(x, s42); s43 = v3.fma(x, s43);
            x = FloatVector.fromArray(S, a, a5 + t);
            s50 = v0.fma(x, s50); s51 = v1.fma(x, s51); s52 = v2.fma(x, s52); s53 = v3.fma(x, s53);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
        s40.intoArray(s, so + 16 * L); s41.intoArray(s, so + 17 * L); s42.intoArray(s, so + 18 * L); s43.intoArray(s, so + 19 * L);
        s50.intoArray(s, so + 20 * L); s51.intoArray(s, so + 21 * L); s52.intoArray(s, so + 22 * L); s53.intoArray(s, so + 23 * L);
    }

    /** {@link #sixHeap} for F32 weight rows at byte offsets y0..y3 of a segment. */
    private static void sixF32(float[] a, int ao, int k, MemorySegment seg, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z, s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z, s40 = z, s41 = z, s42 = z, s43 = z, s50 = z, s51 = z, s52 = z, s53 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 2;
            FloatVector v0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE), v1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE), v3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
            x = FloatVector.fromArray(S, a, a4 + t);
            s40 = v0.fma(x, s40); s41 = v1.fma(x, s41); s42 = v2.fma(x, s42); s43 = v3.fma(x, s43);
            x = FloatVector.fromArray(S, a, a5 + t);
            s50 = v0.fma(x, s50); s51 = v1.fma(x, s51); s52 = v2.fma(x, s52); s53 = v3.fma(x, s53);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
        s40.intoArray(s, so + 16 * L); s41.intoArray(s, so + 17 * L); s42.intoArray(s, so + 18 * L); s43.intoArray(s, so + 19 * L);
        s50.intoArray(s, so + 20 * L); s51.intoArray(s, so + 21 * L); s52.intoArray(s, so + 22 * L); s53.intoArray(s, so + 23 * L);
    }

    /** {@link #sixHeap} for BF16 weight rows at byte offsets y0..y3 of a segment, widened in registers. */
    private static void sixBf16(float[] a, int ao, int k, MemorySegment seg, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z, s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z, s40 = z, s41 = z, s42 = z, s43 = z, s50 = z, s51 = z, s52 = z, s53 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 1;
            FloatVector v0 = HalfVectors.bf16(seg, y0 + o), v1 = HalfVectors.bf16(seg, y1 + o);
            FloatVector v2 = HalfVectors.bf16(seg, y2 + o), v3 = HalfVectors.bf16(seg, y3 + o);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
            x = FloatVector.fromArray(S, a, a4 + t);
            s40 = v0.fma(x, s40); s41 = v1.fma(x, s41); s42 = v2.fma(x, s42); s43 = v3.fma(x, s43);
            x = FloatVector.fromArray(S, a, a5 + t);
            s50 = v0.fma(x, s50); s51 = v1.fma(x, s51); s52 = v2.fma(x, s52); s53 = v3.fma(x, s53);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
        s40.intoArray(s, so + 16 * L); s41.intoArray(s, so + 17 * L); s42.intoArray(s, so + 18 * L); s43.intoArray(s, so + 19 * L);
        s50.intoArray(s, so + 20 * L); s51.intoArray(s, so + 21 * L); s52.intoArray(s, so + 22 * L); s53.intoArray(s, so + 23 * L);
    }

    // The kernels differ only in how a weight vector is loaded; each is its own method so that C2 keeps
    // the sixteen accumulators and four weight vectors in registers (a load through a switch or a lambda spills them).

    /** Four rows at a[ao + i·k] against heap weight rows over k in [0, bound); accumulators to s[so + q·L], q = 4·i + j. */
    private static void fourHeap(float[] a, int ao, int k, float[] w, int w0, int w1, int w2, int w3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            FloatVector v0 = FloatVector.fromArray(S, w, w0 + t), v1 = FloatVector.fromArray(S, w, w1 + t);
            FloatVector v2 = FloatVector.fromArray(S, w, w2 + t), v3 = FloatVector.fromArray(S, w, w3 + t);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
    }

    /** {@link #fourHeap} for F32 weight rows at byte offsets y0..y3 of a segment. */
    private static void fourF32(float[] a, int ao, int k, MemorySegment seg, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 2;
            FloatVector v0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE), v1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE), v3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
    }

    /** {@link #fourHeap} for BF16 weight rows at byte offsets y0..y3 of a segment, widened in registers. */
    private static void fourBf16(float[] a, int ao, int k, MemorySegment seg, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 1;
            FloatVector v0 = HalfVectors.bf16(seg, y0 + o), v1 = HalfVectors.bf16(seg, y1 + o);
            FloatVector v2 = HalfVectors.bf16(seg, y2 + o), v3 = HalfVectors.bf16(seg, y3 + o);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
    }

    /** {@link #sixF32} at native addresses y0..y3, loaded through {@link NativeMemory#ALL}. */
    private static void sixF32Native(float[] a, int ao, int k, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        MemorySegment seg = NativeMemory.ALL;
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z, s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z, s40 = z, s41 = z, s42 = z, s43 = z, s50 = z, s51 = z, s52 = z, s53 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 2;
            FloatVector v0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE), v1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE), v3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
            x = FloatVector.fromArray(S, a, a4 + t);
            s40 = v0.fma(x, s40); s41 = v1.fma(x, s41); s42 = v2.fma(x, s42); s43 = v3.fma(x, s43);
            x = FloatVector.fromArray(S, a, a5 + t);
            s50 = v0.fma(x, s50); s51 = v1.fma(x, s51); s52 = v2.fma(x, s52); s53 = v3.fma(x, s53);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
        s40.intoArray(s, so + 16 * L); s41.intoArray(s, so + 17 * L); s42.intoArray(s, so + 18 * L); s43.intoArray(s, so + 19 * L);
        s50.intoArray(s, so + 20 * L); s51.intoArray(s, so + 21 * L); s52.intoArray(s, so + 22 * L); s53.intoArray(s, so + 23 * L);
    }

    /** {@link #sixBf16} at native addresses y0..y3, loaded through {@link NativeMemory#ALL}. */
    private static void sixBf16Native(float[] a, int ao, int k, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        MemorySegment seg = NativeMemory.ALL;
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z, s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z, s40 = z, s41 = z, s42 = z, s43 = z, s50 = z, s51 = z, s52 = z, s53 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 1;
            FloatVector v0 = HalfVectors.bf16(seg, y0 + o), v1 = HalfVectors.bf16(seg, y1 + o);
            FloatVector v2 = HalfVectors.bf16(seg, y2 + o), v3 = HalfVectors.bf16(seg, y3 + o);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
            x = FloatVector.fromArray(S, a, a4 + t);
            s40 = v0.fma(x, s40); s41 = v1.fma(x, s41); s42 = v2.fma(x, s42); s43 = v3.fma(x, s43);
            x = FloatVector.fromArray(S, a, a5 + t);
            s50 = v0.fma(x, s50); s51 = v1.fma(x, s51); s52 = v2.fma(x, s52); s53 = v3.fma(x, s53);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
        s40.intoArray(s, so + 16 * L); s41.intoArray(s, so + 17 * L); s42.intoArray(s, so + 18 * L); s43.intoArray(s, so + 19 * L);
        s50.intoArray(s, so + 20 * L); s51.intoArray(s, so + 21 * L); s52.intoArray(s, so + 22 * L); s53.intoArray(s, so + 23 * L);
    }

    /** {@link #fourF32} at native addresses y0..y3, loaded through {@link NativeMemory#ALL}. */
    private static void fourF32Native(float[] a, int ao, int k, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        MemorySegment seg = NativeMemory.ALL;
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 2;
            FloatVector v0 = FloatVector.fromMemorySegment(S, seg, y0 + o, LE), v1 = FloatVector.fromMemorySegment(S, seg, y1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, seg, y2 + o, LE), v3 = FloatVector.fromMemorySegment(S, seg, y3 + o, LE);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
    }

    /** {@link #fourBf16} at native addresses y0..y3, loaded through {@link NativeMemory#ALL}. */
    private static void fourBf16Native(float[] a, int ao, int k, long y0, long y1, long y2, long y3, int bound, float[] s, int so) {
        MemorySegment seg = NativeMemory.ALL;
        int a0 = ao, a1 = ao + k, a2 = a1 + k, a3 = a2 + k;
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
        FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
        FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int t = 0; t < bound; t += L) {
            long o = (long) t << 1;
            FloatVector v0 = HalfVectors.bf16(seg, y0 + o), v1 = HalfVectors.bf16(seg, y1 + o);
            FloatVector v2 = HalfVectors.bf16(seg, y2 + o), v3 = HalfVectors.bf16(seg, y3 + o);
            FloatVector x = FloatVector.fromArray(S, a, a0 + t);
            s00 = v0.fma(x, s00); s01 = v1.fma(x, s01); s02 = v2.fma(x, s02); s03 = v3.fma(x, s03);
            x = FloatVector.fromArray(S, a, a1 + t);
            s10 = v0.fma(x, s10); s11 = v1.fma(x, s11); s12 = v2.fma(x, s12); s13 = v3.fma(x, s13);
            x = FloatVector.fromArray(S, a, a2 + t);
            s20 = v0.fma(x, s20); s21 = v1.fma(x, s21); s22 = v2.fma(x, s22); s23 = v3.fma(x, s23);
            x = FloatVector.fromArray(S, a, a3 + t);
            s30 = v0.fma(x, s30); s31 = v1.fma(x, s31); s32 = v2.fma(x, s32); s33 = v3.fma(x, s33);
        }
        s00.intoArray(s, so); s01.intoArray(s, so + L); s02.intoArray(s, so + 2 * L); s03.intoArray(s, so + 3 * L);
        s10.intoArray(s, so + 4 * L); s11.intoArray(s, so + 5 * L); s12.intoArray(s, so + 6 * L); s13.intoArray(s, so + 7 * L);
        s20.intoArray(s, so + 8 * L); s21.intoArray(s, so + 9 * L); s22.intoArray(s, so + 10 * L); s23.intoArray(s, so + 11 * L);
        s30.intoArray(s, so + 12 * L); s31.intoArray(s, so + 13 * L); s32.intoArray(s, so + 14 * L); s33.intoArray(s, so + 15 * L);
    }
}
