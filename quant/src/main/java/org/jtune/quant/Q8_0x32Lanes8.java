package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Q8_0x32Format}'s product with 256-bit vectors (AVX2), on the same bytes and with the same bits: a group's column
 * of 32 codes is four runs of 8, each widened to 8 floats and multiplied by a broadcast activation; per block and row,
 * s = Σ_j q_j·x_j in order with one fused multiply-add per step, then out += s·d with the 16 scale words read as two
 * 8-word loads, as the 512-bit kernel computes each lane. The running sums live in the output (a 16-register machine
 * cannot also hold them). One or two activation rows share each widened column; a prefill widens each column once into a float panel ({@link #panel}). Written out, with no
 * vector-typed helper calls (C2 boxes the vectors of a call it does not inline).
 */
final class Q8_0x32Lanes8 {
    private static final int QK = 32, GROUP = 32;
    private static final int CODES = ScaledBlockGroups.CODES;
    private static final int BLOCK_BYTES = Q8_0x32Format.BLOCK_BYTES;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    /** Activation rows from which the codes are widened into a float panel first, and blocks per panel: the 512-bit kernel's. */
    private static final int PANEL_MIN_ROWS = Q8_0x32Format.PANEL_MIN_ROWS, PANEL_BLOCKS = Q8_0x32Format.PANEL_BLOCKS;
    private static final ThreadLocal<float[][]> PANEL =
            ThreadLocal.withInitial(() -> new float[][] {new float[PANEL_BLOCKS * QK * GROUP], new float[PANEL_BLOCKS * GROUP]});

    private Q8_0x32Lanes8() {}

    /** {@link Q8_0x32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), m activation rows at x[xOff ..]. */
    static void multiply(long base, int g0, int g1, int blocks, float[] x, int xOff, int m, float[] out, int outOff, int outStride) {
        if (m >= PANEL_MIN_ROWS) {
            panel(base, g0, g1, blocks, x, xOff, m, out, outOff, outStride);
            return;
        }
        int cols = blocks * QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            int i = 0;
            for (; i + 1 < m; i += 2) rows2(group, blocks, x, xOff + i * cols, cols, out, outOff + i * outStride + g * GROUP, outStride);
            if (i < m) row1(group, blocks, x, xOff + i * cols, out, outOff + i * outStride + g * GROUP);
        }
    }

    /** One activation row (at x[xo ..]) times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, float[] x, int xo, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        java.util.Arrays.fill(out, o, o + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            FloatVector z = FloatVector.zero(F), s00 = z, s01 = z, s02 = z, s03 = z;
            for (int j = 0; j < QK; j++) {
                long col = c + CODES + 32L * j;
                FloatVector v0 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 0, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v1 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 8, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v2 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v3 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 24, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                s02 = v2.fma(a, s02);
                s03 = v3.fma(a, s03);
            }
            // the 16 scale words as two 8-word loads: low halves rows 0..7 and 8..15, high halves rows 16..23 and 24..31
            IntVector h0 = IntVector.fromMemorySegment(I, mem, c, LE), h1 = IntVector.fromMemorySegment(I, mem, c + 32, LE);
            FloatVector d0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h0.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h1.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h1.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d2 = h0.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h0.and(0x80000000)).reinterpretAsFloats();
            FloatVector d3 = h1.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h1.and(0x80000000)).reinterpretAsFloats();
            s00.fma(d0, FloatVector.fromArray(F, out, o + 0)).intoArray(out, o + 0);
            s01.fma(d1, FloatVector.fromArray(F, out, o + 8)).intoArray(out, o + 8);
            s02.fma(d2, FloatVector.fromArray(F, out, o + 16)).intoArray(out, o + 16);
            s03.fma(d3, FloatVector.fromArray(F, out, o + 24)).intoArray(out, o + 24);
        }
    }

    /** Two activation rows (at x[xo ..], {@code cols} apart) times one group: out[o ..) and out[o + stride ..). */
    private static void rows2(long group, int blocks, float[] x, int xo, int cols, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        java.util.Arrays.fill(out, o, o + GROUP, 0f);
        java.util.Arrays.fill(out, o + stride, o + stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            FloatVector z = FloatVector.zero(F), s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (int j = 0; j < QK; j++) {
                long col = c + CODES + 32L * j;
                FloatVector v0 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 0, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v1 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 8, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v2 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector v3 = (FloatVector) ByteVector.fromMemorySegment(B, mem, col + 24, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                s02 = v2.fma(a, s02);
                s03 = v3.fma(a, s03);
                a = FloatVector.broadcast(F, x[k + cols + j]);
                s10 = v0.fma(a, s10);
                s11 = v1.fma(a, s11);
                s12 = v2.fma(a, s12);
                s13 = v3.fma(a, s13);
            }
            // the 16 scale words as two 8-word loads: low halves rows 0..7 and 8..15, high halves rows 16..23 and 24..31
            IntVector h0 = IntVector.fromMemorySegment(I, mem, c, LE), h1 = IntVector.fromMemorySegment(I, mem, c + 32, LE);
            FloatVector d0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h0.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h1.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h1.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d2 = h0.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h0.and(0x80000000)).reinterpretAsFloats();
            FloatVector d3 = h1.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h1.and(0x80000000)).reinterpretAsFloats();
            s00.fma(d0, FloatVector.fromArray(F, out, o + 0)).intoArray(out, o + 0);
            s01.fma(d1, FloatVector.fromArray(F, out, o + 8)).intoArray(out, o + 8);
            s02.fma(d2, FloatVector.fromArray(F, out, o + 16)).intoArray(out, o + 16);
            s03.fma(d3, FloatVector.fromArray(F, out, o + 24)).intoArray(out, o + 24);
            s10.fma(d0, FloatVector.fromArray(F, out, o + stride + 0)).intoArray(out, o + stride + 0);
            s11.fma(d1, FloatVector.fromArray(F, out, o + stride + 8)).intoArray(out, o + stride + 8);
            s12.fma(d2, FloatVector.fromArray(F, out, o + stride + 16)).intoArray(out, o + stride + 16);
            s13.fma(d3, FloatVector.fromArray(F, out, o + stride + 24)).intoArray(out, o + stride + 24);
        }
    }

    /**
     * The product for a prefill (m ≥ {@value #PANEL_MIN_ROWS} rows): per group, {@value #PANEL_BLOCKS} blocks at a time widened once
     * into a panel of floats ({@link #widen}), then the activation rows two at a time from it, as the 512-bit kernel's panel
     * does; each output is the same operation sequence as {@link #row1}'s.
     */
    private static void panel(long base, int g0, int g1, int blocks, float[] x, int xOff, int m, float[] out, int outOff, int outStride) {
        float[][] panel = PANEL.get();
        float[] codes = panel[0], scales = panel[1];
        int cols = blocks * QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            for (int i = 0; i < m; i++) java.util.Arrays.fill(out, outOff + i * outStride + g * GROUP, outOff + i * outStride + g * GROUP + GROUP, 0f);
            for (int b0 = 0; b0 < blocks; b0 += PANEL_BLOCKS) {
                int nb = Math.min(PANEL_BLOCKS, blocks - b0);
                widen(group + (long) b0 * BLOCK_BYTES, nb, codes, scales);
                int i = 0;
                for (; i + 1 < m; i += 2) panelRows2(codes, scales, nb, x, xOff + i * cols + b0 * QK, cols, out, outOff + i * outStride + g * GROUP, outStride);
                if (i < m) panelRow1(codes, scales, nb, x, xOff + i * cols + b0 * QK, out, outOff + i * outStride + g * GROUP);
            }
        }
    }

    /** nb blocks of one group at c: codes[(b·32 + j)·32 + r] = row r's code j of block b, scales[b·32 + r] = row r's d, as floats. */
    private static void widen(long c, int nb, float[] codes, float[] scales) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int b = 0; b < nb; b++) {
            long blk = c + (long) b * BLOCK_BYTES;
            for (int j = 0; j < QK; j++) {
                long col = blk + CODES + 32L * j;
                int p = (b * QK + j) * GROUP;
                for (int q = 0; q < 4; q++) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, mem, col + 8 * q, LE).convertShape(VectorOperators.B2F, F, 0)).intoArray(codes, p + 8 * q);
                }
            }
            for (int half = 0; half < 2; half++) {
                IntVector h = IntVector.fromMemorySegment(I, mem, blk + 32 * half, LE);   // the kernels' widening, written out as there
                h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats().intoArray(scales, b * GROUP + 8 * half);
                h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                        .or(h.and(0x80000000)).reinterpretAsFloats().intoArray(scales, b * GROUP + 16 + 8 * half);
            }
        }
    }

    /** One activation row times a panel of nb widened blocks, as {@link #row1} computes them (the running sums in out). */
    private static void panelRow1(float[] codes, float[] scales, int nb, float[] x, int xo, float[] out, int o) {
        for (int b = 0; b < nb; b++) {
            int k = xo + b * QK;
            FloatVector z = FloatVector.zero(F), s00 = z, s01 = z, s02 = z, s03 = z;
            for (int j = 0; j < QK; j++) {
                int p = (b * QK + j) * GROUP;
                FloatVector v0 = FloatVector.fromArray(F, codes, p + 0);
                FloatVector v1 = FloatVector.fromArray(F, codes, p + 8);
                FloatVector v2 = FloatVector.fromArray(F, codes, p + 16);
                FloatVector v3 = FloatVector.fromArray(F, codes, p + 24);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                s02 = v2.fma(a, s02);
                s03 = v3.fma(a, s03);
            }
            s00.fma(FloatVector.fromArray(F, scales, b * GROUP + 0), FloatVector.fromArray(F, out, o + 0)).intoArray(out, o + 0);
            s01.fma(FloatVector.fromArray(F, scales, b * GROUP + 8), FloatVector.fromArray(F, out, o + 8)).intoArray(out, o + 8);
            s02.fma(FloatVector.fromArray(F, scales, b * GROUP + 16), FloatVector.fromArray(F, out, o + 16)).intoArray(out, o + 16);
            s03.fma(FloatVector.fromArray(F, scales, b * GROUP + 24), FloatVector.fromArray(F, out, o + 24)).intoArray(out, o + 24);
        }
    }

    /** Two activation rows times a panel of nb widened blocks, as {@link #rows2} computes them (the running sums in out). */
    private static void panelRows2(float[] codes, float[] scales, int nb, float[] x, int xo, int cols, float[] out, int o, int stride) {
        for (int b = 0; b < nb; b++) {
            int k = xo + b * QK;
            FloatVector z = FloatVector.zero(F), s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
            for (int j = 0; j < QK; j++) {
                int p = (b * QK + j) * GROUP;
                FloatVector v0 = FloatVector.fromArray(F, codes, p + 0);
                FloatVector v1 = FloatVector.fromArray(F, codes, p + 8);
                FloatVector v2 = FloatVector.fromArray(F, codes, p + 16);
                FloatVector v3 = FloatVector.fromArray(F, codes, p + 24);
                FloatVector a = FloatVector.broadcast(F, x[k + j]);
                s00 = v0.fma(a, s00);
                s01 = v1.fma(a, s01);
                s02 = v2.fma(a, s02);
                s03 = v3.fma(a, s03);
                a = FloatVector.broadcast(F, x[k + cols + j]);
                s10 = v0.fma(a, s10);
                s11 = v1.fma(a, s11);
                s12 = v2.fma(a, s12);
                s13 = v3.fma(a, s13);
            }
            s00.fma(FloatVector.fromArray(F, scales, b * GROUP + 0), FloatVector.fromArray(F, out, o + 0)).intoArray(out, o + 0);
            s01.fma(FloatVector.fromArray(F, scales, b * GROUP + 8), FloatVector.fromArray(F, out, o + 8)).intoArray(out, o + 8);
            s02.fma(FloatVector.fromArray(F, scales, b * GROUP + 16), FloatVector.fromArray(F, out, o + 16)).intoArray(out, o + 16);
            s03.fma(FloatVector.fromArray(F, scales, b * GROUP + 24), FloatVector.fromArray(F, out, o + 24)).intoArray(out, o + 24);
            s10.fma(FloatVector.fromArray(F, scales, b * GROUP + 0), FloatVector.fromArray(F, out, o + stride + 0)).intoArray(out, o + stride + 0);
            s11.fma(FloatVector.fromArray(F, scales, b * GROUP + 8), FloatVector.fromArray(F, out, o + stride + 8)).intoArray(out, o + stride + 8);
            s12.fma(FloatVector.fromArray(F, scales, b * GROUP + 16), FloatVector.fromArray(F, out, o + stride + 16)).intoArray(out, o + stride + 16);
            s13.fma(FloatVector.fromArray(F, scales, b * GROUP + 24), FloatVector.fromArray(F, out, o + stride + 24)).intoArray(out, o + stride + 24);
        }
    }
}
