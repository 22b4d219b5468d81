package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Q8Rows;

/**
 * {@link Q4_0x32Format}'s product with 256-bit vectors (AVX2: 8 F32 lanes, 16 short lanes), on the same bytes and with the
 * same bits: a group's column of 32 code bytes is two halves of 16 rows, each zero-extended to 16 shorts; a byte b = lo +
 * 16·hi times the paired activation code of column j plus (b >>> 4) times that of column j + 16 ({@link
 * Q8Rows#pairedCodes}) adds lo·a_j + hi·a_{j+16}, the 512-bit kernel's two products, modulo 2^16 as there, without
 * masking the low nibble. The 16 scale words are two 8-word loads (word t: row t in its low half, row t + 16 in its high
 * half), each half widened by an arithmetic shift and a mask to x = d·2^−112 and multiplied by a power of two, pre; the
 * activation's scale is multiplied by post = 2^112 / pre; (x·pre)·(d_a·post) is d·d_a rounded once, as the 512-bit
 * kernel's d·d_a ({@link #pre}: neither factor overflows). Each row's output is Σ_b float(S_b)·(d·d_a) added in block
 * order from 0, as there: for one activation row in registers, for two or four in the output itself (a 16-register
 * machine cannot hold them all). One, two or four activation rows at a time share each decoded column; from {@value
 * #PANEL_MIN_ROWS} rows (a prefill, a large batch) all but the last few take a float panel instead ({@link #panelRows}),
 * with the same bits. Everything is written out in the kernels: a helper method taking vectors, left uninlined by C2,
 * boxes them (hundreds of MB allocated per decoded token, bench/RESULTS.md).
 */
final class Q4_0x32Lanes8 {
    private static final int QK = 32, GROUP = 32;
    private static final int CODES = ScaledBlockGroups.CODES, BLOCK_BYTES = Q4_0x32Format.BLOCK_BYTES;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** Activation rows from which groups are multiplied through a float panel ({@link #panelRows}), blocks per panel, rows per tile. */
    static final int PANEL_MIN_ROWS = 48, PANEL_BLOCKS = 4, TILE_ROWS = ActivationStrips.ROWS;
    private static final ThreadLocal<float[][]> PANEL =
            ThreadLocal.withInitial(() -> new float[][] {new float[PANEL_BLOCKS * QK * GROUP], new float[PANEL_BLOCKS * GROUP]});
    /**
     * What a call's activation rows need, made once per call and thread (kept, with the rows, until the thread's next
     * call): the scales' power of two ({@link #pre}), the rows [0, tiled) the panel takes (whole six-row strips; none
     * below {@value #PANEL_MIN_ROWS} rows), and their codes as floats in those strips ({@link ActivationStrips}).
     */
    private record Prepared(Q8Rows of, float pre, int tiled, float[] strips) {}
    private static final ThreadLocal<Prepared> PREPARED = ThreadLocal.withInitial(() -> new Prepared(null, 0f, 0, new float[0]));

    private Q4_0x32Lanes8() {}

    /** {@link Q4_0x32Format#multiplyGroups} on groups [g0, g1) at address base (group g0), every row of x. */
    static void multiply(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows();
        Prepared prepared = prepared(x);
        float pre = prepared.pre(), post = F16_BIAS / pre;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        for (int g = g0; g < g1; g++) {
            long group = base + (g - g0) * groupBytes;
            int i = prepared.tiled();
            if (i > 0) panelRows(group, g, blocks, x, prepared.strips(), i, pre, post, out, outOff, outStride);
            for (; i + 3 < m; i += 4) rows4(group, blocks, x, i, pre, post, out, outOff + i * outStride + g * GROUP, outStride);
            for (; i + 1 < m; i += 2) rows2(group, blocks, x, i, pre, post, out, outOff + i * outStride + g * GROUP, outStride);
            if (i < m) row1(group, blocks, x, i, pre, post, out, outOff + i * outStride + g * GROUP);
        }
    }

    /**
     * The power of two the widened weight scales are multiplied by: 2^56, the activation scales then by 2^56 too, unless
     * one of x's is 2^64 or more (activations beyond 10^21): then 2^112, and 1.
     */
    private static float pre(Q8Rows x) {
        float max = 0f;
        float[] ds = x.scales();
        for (int i = 0, n = x.rows() * (x.cols() / QK); i < n; i++) max = Math.max(max, ds[i]);
        return max < 0x1p64f ? 0x1p56f : F16_BIAS;
    }

    /** One activation row times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, Q8Rows x, int i, float pre, float post, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.pairedCodes();
        float[] ds = x.scales();
        int[] sums = x.sums();
        int cols = blocks * QK, xo = i * cols, so = i * blocks;
        FloatVector r0 = FloatVector.zero(F), r1 = r0, r2 = r0, r3 = r0;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            ShortVector lo0 = ShortVector.zero(S), hi0 = lo0;
            for (int j = 0; j < 16; j++) {
                long col = c + CODES + 32L * j;
                ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector uh = u.lanewise(VectorOperators.LSHR, 4), vh = v.lanewise(VectorOperators.LSHR, 4);
                short p = a[k + j], q = a[k + j + 16];
                lo0 = lo0.add(u.mul(p)).add(uh.mul(q));
                hi0 = hi0.add(v.mul(p)).add(vh.mul(q));
            }
            // the 16 scale words as two 8-word loads: low halves rows 0..7 and 8..15, high halves rows 16..23 and 24..31
            IntVector h0 = IntVector.fromMemorySegment(I, mem, c, LE), h1 = IntVector.fromMemorySegment(I, mem, c + 32, LE);
            FloatVector d0 = h0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d1 = h1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d2 = h0.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d3 = h1.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            float da = ds[so + b] * post;
            short off = (short) (8 * sums[so + b]);
            ShortVector s0 = lo0.sub(off), t0 = hi0.sub(off);
            r0 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), r0);
            r1 = ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), r1);
            r2 = ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), r2);
            r3 = ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), r3);
        }
        r0.intoArray(out, o);
        r1.intoArray(out, o + 8);
        r2.intoArray(out, o + 16);
        r3.intoArray(out, o + 24);
    }

    /** Two activation rows (i, i + 1) times one group: out[o ..) and out[o + stride ..). */
    private static void rows2(long group, int blocks, Q8Rows x, int i, float pre, float post, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.pairedCodes();
        float[] ds = x.scales();
        int[] sums = x.sums();
        int cols = blocks * QK, xo = i * cols, so = i * blocks;
        java.util.Arrays.fill(out, o, o + GROUP, 0f);
        java.util.Arrays.fill(out, o + stride, o + stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            ShortVector lo0 = ShortVector.zero(S), hi0 = lo0, lo1 = lo0, hi1 = lo0;
            for (int j = 0; j < 16; j++) {
                long col = c + CODES + 32L * j;
                ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector uh = u.lanewise(VectorOperators.LSHR, 4), vh = v.lanewise(VectorOperators.LSHR, 4);
                short p = a[k + j], q = a[k + j + 16];
                lo0 = lo0.add(u.mul(p)).add(uh.mul(q));
                hi0 = hi0.add(v.mul(p)).add(vh.mul(q));
                p = a[k + cols + j];
                q = a[k + cols + j + 16];
                lo1 = lo1.add(u.mul(p)).add(uh.mul(q));
                hi1 = hi1.add(v.mul(p)).add(vh.mul(q));
            }
            // the 16 scale words as two 8-word loads: low halves rows 0..7 and 8..15, high halves rows 16..23 and 24..31
            IntVector h0 = IntVector.fromMemorySegment(I, mem, c, LE), h1 = IntVector.fromMemorySegment(I, mem, c + 32, LE);
            FloatVector d0 = h0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d1 = h1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d2 = h0.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d3 = h1.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            float da = ds[so + b] * post;
            short off = (short) (8 * sums[so + b]);
            ShortVector s0 = lo0.sub(off), t0 = hi0.sub(off);
            int o0 = o;
            ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o0 + 0)).intoArray(out, o0 + 0);
            ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o0 + 8)).intoArray(out, o0 + 8);
            ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o0 + 16)).intoArray(out, o0 + 16);
            ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o0 + 24)).intoArray(out, o0 + 24);
            da = ds[so + blocks + b] * post;
            off = (short) (8 * sums[so + blocks + b]);
            ShortVector s1 = lo1.sub(off), t1 = hi1.sub(off);
            int o1 = o + stride;
            ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o1 + 0)).intoArray(out, o1 + 0);
            ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o1 + 8)).intoArray(out, o1 + 8);
            ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o1 + 16)).intoArray(out, o1 + 16);
            ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o1 + 24)).intoArray(out, o1 + 24);
        }
    }

    /** Four activation rows (i .. i + 3) times one group, out[o + r·stride ..) for row i + r. */
    private static void rows4(long group, int blocks, Q8Rows x, int i, float pre, float post, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.pairedCodes();
        float[] ds = x.scales();
        int[] sums = x.sums();
        int cols = blocks * QK, xo = i * cols, so = i * blocks;
        java.util.Arrays.fill(out, o, o + GROUP, 0f);
        java.util.Arrays.fill(out, o + stride, o + stride + GROUP, 0f);
        java.util.Arrays.fill(out, o + 2 * stride, o + 2 * stride + GROUP, 0f);
        java.util.Arrays.fill(out, o + 3 * stride, o + 3 * stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK;
            ShortVector lo0 = ShortVector.zero(S), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
            for (int j = 0; j < 16; j++) {
                long col = c + CODES + 32L * j;
                ShortVector u = (ShortVector) ByteVector.fromMemorySegment(B, mem, col, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, col + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector uh = u.lanewise(VectorOperators.LSHR, 4), vh = v.lanewise(VectorOperators.LSHR, 4);
                short p = a[k + j], q = a[k + j + 16];
                lo0 = lo0.add(u.mul(p)).add(uh.mul(q));
                hi0 = hi0.add(v.mul(p)).add(vh.mul(q));
                p = a[k + cols + j];
                q = a[k + cols + j + 16];
                lo1 = lo1.add(u.mul(p)).add(uh.mul(q));
                hi1 = hi1.add(v.mul(p)).add(vh.mul(q));
                p = a[k + 2 * cols + j];
                q = a[k + 2 * cols + j + 16];
                lo2 = lo2.add(u.mul(p)).add(uh.mul(q));
                hi2 = hi2.add(v.mul(p)).add(vh.mul(q));
                p = a[k + 3 * cols + j];
                q = a[k + 3 * cols + j + 16];
                lo3 = lo3.add(u.mul(p)).add(uh.mul(q));
                hi3 = hi3.add(v.mul(p)).add(vh.mul(q));
            }
            // the 16 scale words as two 8-word loads: low halves rows 0..7 and 8..15, high halves rows 16..23 and 24..31
            IntVector h0 = IntVector.fromMemorySegment(I, mem, c, LE), h1 = IntVector.fromMemorySegment(I, mem, c + 32, LE);
            FloatVector d0 = h0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d1 = h1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d2 = h0.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            FloatVector d3 = h1.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre);
            float da = ds[so + b] * post;
            short off = (short) (8 * sums[so + b]);
            ShortVector s0 = lo0.sub(off), t0 = hi0.sub(off);
            int o0 = o;
            ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o0 + 0)).intoArray(out, o0 + 0);
            ((FloatVector) ((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o0 + 8)).intoArray(out, o0 + 8);
            ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o0 + 16)).intoArray(out, o0 + 16);
            ((FloatVector) ((IntVector) t0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o0 + 24)).intoArray(out, o0 + 24);
            da = ds[so + blocks + b] * post;
            off = (short) (8 * sums[so + blocks + b]);
            ShortVector s1 = lo1.sub(off), t1 = hi1.sub(off);
            int o1 = o + stride;
            ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o1 + 0)).intoArray(out, o1 + 0);
            ((FloatVector) ((IntVector) s1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o1 + 8)).intoArray(out, o1 + 8);
            ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o1 + 16)).intoArray(out, o1 + 16);
            ((FloatVector) ((IntVector) t1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o1 + 24)).intoArray(out, o1 + 24);
            da = ds[so + 2 * blocks + b] * post;
            off = (short) (8 * sums[so + 2 * blocks + b]);
            ShortVector s2 = lo2.sub(off), t2 = hi2.sub(off);
            int o2 = o + 2 * stride;
            ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o2 + 0)).intoArray(out, o2 + 0);
            ((FloatVector) ((IntVector) s2.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o2 + 8)).intoArray(out, o2 + 8);
            ((FloatVector) ((IntVector) t2.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o2 + 16)).intoArray(out, o2 + 16);
            ((FloatVector) ((IntVector) t2.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o2 + 24)).intoArray(out, o2 + 24);
            da = ds[so + 3 * blocks + b] * post;
            off = (short) (8 * sums[so + 3 * blocks + b]);
            ShortVector s3 = lo3.sub(off), t3 = hi3.sub(off);
            int o3 = o + 3 * stride;
            ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, o3 + 0)).intoArray(out, o3 + 0);
            ((FloatVector) ((IntVector) s3.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, o3 + 8)).intoArray(out, o3 + 8);
            ((FloatVector) ((IntVector) t3.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(d2.mul(da), FloatVector.fromArray(F, out, o3 + 16)).intoArray(out, o3 + 16);
            ((FloatVector) ((IntVector) t3.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0)).fma(d3.mul(da), FloatVector.fromArray(F, out, o3 + 24)).intoArray(out, o3 + 24);
        }
    }

    /**
     * Activation rows [0, tiled) times group g (at address group), for a prefill: {@value #PANEL_BLOCKS} blocks at a time
     * widened once into a float panel ({@link #widen}: q − 8 and x·pre), then six activation rows at a time times each half
     * of the group ({@link #tile}, the codes from the strips a of {@link Prepared}). Each S = Σ (q − 8)·a is summed in F32
     * from exact integers below 2^24, so it is exact, and out += float(S)·((x·pre)·(d_a·post)) as in {@link #row1}: the
     * same bits as the integer kernels, with F32 fused multiply-adds whose broadcasts are loads instead of 16-bit
     * multiplies, adds and broadcast shuffles (~10 % faster at 64 and 128 rows, bench/RESULTS.md).
     */
    private static void panelRows(long group, int g, int blocks, Q8Rows x, float[] a, int tiled, float pre, float post, float[] out,
                                  int outOff, int outStride) {
        float[][] panel = PANEL.get();
        float[] codes = panel[0], scales = panel[1];
        for (int i = 0; i < tiled; i++) java.util.Arrays.fill(out, outOff + i * outStride + g * GROUP, outOff + i * outStride + g * GROUP + GROUP, 0f);
        for (int b0 = 0; b0 < blocks; b0 += PANEL_BLOCKS) {
            int nb = Math.min(PANEL_BLOCKS, blocks - b0);
            widen(group + (long) b0 * BLOCK_BYTES, nb, pre, codes, scales);
            for (int i = 0; i < tiled; i += TILE_ROWS) {
                for (int h = 0; h < GROUP; h += 16) {
                    tile(codes, scales, nb, b0, blocks, a, x.scales(), post, i, out, outOff + i * outStride + g * GROUP + h, outStride, h);
                }
            }
        }
    }

    /** This thread's {@link Prepared} of x, made if x is not its last call's rows. */
    private static Prepared prepared(Q8Rows x) {
        Prepared last = PREPARED.get();
        if (last.of() == x) return last;
        int m = x.rows(), tiled = m >= PANEL_MIN_ROWS ? m - m % TILE_ROWS : 0;
        Prepared made = new Prepared(x, pre(x), tiled, ActivationStrips.of(x, tiled, last.strips()));
        PREPARED.set(made);
        return made;
    }

    /** nb blocks at c: codes[(b·32 + j)·32 + r] = row r's q − 8 of column j of block b, scales[b·32 + r] = its x·pre, as floats. */
    private static void widen(long c, int nb, float pre, float[] codes, float[] scales) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        for (int b = 0; b < nb; b++) {
            long blk = c + (long) b * BLOCK_BYTES;
            IntVector h0 = IntVector.fromMemorySegment(I, mem, blk, LE), h1 = IntVector.fromMemorySegment(I, mem, blk + 32, LE);
            h0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre).intoArray(scales, b * GROUP);
            h1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre).intoArray(scales, b * GROUP + 8);
            h0.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre).intoArray(scales, b * GROUP + 16);
            h1.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats().mul(pre).intoArray(scales, b * GROUP + 24);
            for (int j = 0; j < 16; j++) {
                long col = blk + CODES + 32L * j;
                for (int q = 0; q < 4; q++) {
                    IntVector u = (IntVector) ByteVector.fromMemorySegment(B8, mem, col + 8 * q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    ((FloatVector) u.and(15).sub(8).convert(VectorOperators.I2F, 0)).intoArray(codes, (b * QK + j) * GROUP + 8 * q);
                    ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).intoArray(codes, (b * QK + j + 16) * GROUP + 8 * q);
                }
            }
        }
    }

    /**
     * Activation rows i .. i + 5 times weight rows h .. h + 15 of a panel of nb blocks (block b0 onwards): per block the
     * 6 × 16 sums S in twelve F32 registers, then out[o + r·stride ..] += S·(scale·(d_a·post)), blocks in order.
     */
    private static void tile(float[] codes, float[] scales, int nb, int b0, int blocks, float[] a, float[] ds, float post, int i,
                             float[] out, int o, int stride, int h) {
        int cols = blocks * QK;
        for (int b = 0; b < nb; b++) {
            int k = i * cols + TILE_ROWS * (b0 + b) * QK;     // column (b0 + b)·32 of strip i / 6
            FloatVector z = FloatVector.zero(F), c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
            for (int j = 0; j < QK; j++) {
                int p = (b * QK + j) * GROUP + h;
                int kj = k + TILE_ROWS * j;
                FloatVector w0 = FloatVector.fromArray(F, codes, p), w1 = FloatVector.fromArray(F, codes, p + 8);
                FloatVector v = FloatVector.broadcast(F, a[kj]);
                c00 = w0.fma(v, c00);
                c01 = w1.fma(v, c01);
                v = FloatVector.broadcast(F, a[kj + 1]);
                c10 = w0.fma(v, c10);
                c11 = w1.fma(v, c11);
                v = FloatVector.broadcast(F, a[kj + 2]);
                c20 = w0.fma(v, c20);
                c21 = w1.fma(v, c21);
                v = FloatVector.broadcast(F, a[kj + 3]);
                c30 = w0.fma(v, c30);
                c31 = w1.fma(v, c31);
                v = FloatVector.broadcast(F, a[kj + 4]);
                c40 = w0.fma(v, c40);
                c41 = w1.fma(v, c41);
                v = FloatVector.broadcast(F, a[kj + 5]);
                c50 = w0.fma(v, c50);
                c51 = w1.fma(v, c51);
            }
            FloatVector d0 = FloatVector.fromArray(F, scales, b * GROUP + h), d1 = FloatVector.fromArray(F, scales, b * GROUP + h + 8);
            int so = i * blocks + b0 + b;
            float da = ds[so] * post;
            c00.fma(d0.mul(da), FloatVector.fromArray(F, out, o)).intoArray(out, o);
            c01.fma(d1.mul(da), FloatVector.fromArray(F, out, o + 8)).intoArray(out, o + 8);
            da = ds[so + blocks] * post;
            c10.fma(d0.mul(da), FloatVector.fromArray(F, out, o + stride)).intoArray(out, o + stride);
            c11.fma(d1.mul(da), FloatVector.fromArray(F, out, o + stride + 8)).intoArray(out, o + stride + 8);
            da = ds[so + 2 * blocks] * post;
            c20.fma(d0.mul(da), FloatVector.fromArray(F, out, o + 2 * stride)).intoArray(out, o + 2 * stride);
            c21.fma(d1.mul(da), FloatVector.fromArray(F, out, o + 2 * stride + 8)).intoArray(out, o + 2 * stride + 8);
            da = ds[so + 3 * blocks] * post;
            c30.fma(d0.mul(da), FloatVector.fromArray(F, out, o + 3 * stride)).intoArray(out, o + 3 * stride);
            c31.fma(d1.mul(da), FloatVector.fromArray(F, out, o + 3 * stride + 8)).intoArray(out, o + 3 * stride + 8);
            da = ds[so + 4 * blocks] * post;
            c40.fma(d0.mul(da), FloatVector.fromArray(F, out, o + 4 * stride)).intoArray(out, o + 4 * stride);
            c41.fma(d1.mul(da), FloatVector.fromArray(F, out, o + 4 * stride + 8)).intoArray(out, o + 4 * stride + 8);
            da = ds[so + 5 * blocks] * post;
            c50.fma(d0.mul(da), FloatVector.fromArray(F, out, o + 5 * stride)).intoArray(out, o + 5 * stride);
            c51.fma(d1.mul(da), FloatVector.fromArray(F, out, o + 5 * stride + 8)).intoArray(out, o + 5 * stride + 8);
        }
    }
}
