package org.jtune.quant;

import static org.jtune.quant.QuantVectors.F16_BIAS;
import static org.jtune.quant.QuantVectors.LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Q8Rows;
import org.jtune.tensor.RowGroupCodec;
import org.jtune.tensor.Tensor;

/**
 * Q6_K weights repacked on load for integer products (jtune's in-memory layout; files keep ggml's {@link Q6KFormat}): the
 * rows in groups of 32, and per group and super-block of 256 columns 6720 bytes, as many as ggml's 32 blocks of 210:
 * <ul>
 * <li>four chunks of 1664 bytes, chunk u = 2h + l / 16 for half h (0, 1) and l in 0..31 (a 16-group of each quarter):
 *     first, for its 16 values of l, three columns X, Y, Z of 32 row bytes at 1664·u + 96·(l mod 16) (+0, +32, +64). Row r's
 *     four codes q0..q3 of weights 128h + l + 32k (k = 0..3; ggml's ql[64h + l], ql[64h + l + 32] and qh[32h + l]) are
 *     stored as X = q0 | (q3 &amp; 3) &lt;&lt; 6, Y = q1 | (q3 &gt;&gt; 2 &amp; 3) &lt;&lt; 6, Z = q2 | (q3 &gt;&gt; 4) &lt;&lt; 6: three codes are
 *     one mask away (ggml's nibbles and 2-bit fields take about twice the operations to assemble), the fourth gathered
 *     from the top bits. Then, at 1664·u + 1536 + 32·k, the int8 scales of the chunk's groups g = 8h + 2k + l / 16 as 4
 *     planes of 32 bytes, byte r being row r's;</li>
 * <li>bytes 6656..6719: the 32 rows' F16 d as 16 little-endian 32-bit words, word t holding row t's in its low half and
 *     row t + 16's in its high half (as {@link Q4_0x32Format}: one 512-bit load widens to two F32 vectors of 16 rows, exactly).</li>
 * </ul>
 * The kernels read a group's bytes strictly in ascending order, which matters more than anything else measured here
 * (GEMV 32000 × 2048, one thread, ggml's rows' kernel 5.0–5.4 ms): d and the 16 planes of scales at the start of each
 * super-block, read after its codes, 6.3 ms; d and the planes at its end, 4.5 ms; this order, 2.1–2.2 ms.
 * The same bytes rearranged (no growth; {@link #plain} restores ggml's rows exactly); w = d·sc_g·(q − 32) as in Q6_K. A d
 * that is Inf or NaN has no exact widening: a matrix holding one keeps ggml's rows.
 *
 * <p>The product ({@link #multiplyGroups}) takes activations as 8-bit codes with one scale d_a per 256 values ({@link Q8Rows}
 * of block 256, ggml's Q8_K), as llama.cpp multiplies Q6_K: out = Σ_superblocks float(T)·(d·d_a), with the integer
 * T = Σ_g sc_g·Σ_{i∈g} (q_i − 32)·a_i exact in int32 (|T| ≤ 16·128·65024 &lt; 2³¹). Per activation row, 8 consecutive
 * columns of one 16-group are summed in 16-bit lanes, one lane per weight row: P = Σ q·a with q ∈ 0..63, products and sums
 * wrapping modulo 2¹⁶, then P − 32·Σa (the activation codes' sum over those 8 columns, per call). That is ≡ Σ (q − 32)·a
 * modulo 2¹⁶, and Σ (q − 32)·a lies within ±8·32·127 = ±32512, so the signed 16-bit lane holds it exactly whatever P
 * wrapped to. The two 8-column sums of a 16-group are widened to int32, added, and multiplied by the group's scale; T is
 * converted to F32 once per super-block (one rounding) and multiply-added with d·d_a (two more), super-blocks in order.
 *
 * <p>On with 16 F32 lanes (AVX-512) or 8 (AVX2: {@link Q6_Kx32Lanes8}, the same bits) and {@link QuantVectors#ENABLED};
 * {@code -Djtune.q6_k.interleave=false} keeps ggml's rows and their F32-activation kernel.
 */
public final class Q6_Kx32Format implements RowGroupCodec {
    public static final Q6_Kx32Format INSTANCE = new Q6_Kx32Format();
    /** Whether Q6_K matrices of whole groups of rows are repacked into this layout when loaded. */
    public static final boolean ENABLED = QuantVectors.ENABLED && (QuantVectors.L == 16 || QuantVectors.L == 8)
            && !"false".equals(System.getProperty("jtune.q6_k.interleave"));
    static final int QK = 256;
    /** ggml's bytes per 256 weights and the offsets of its fields. */
    private static final int PLAIN = 210, PLAIN_QH = 128, PLAIN_SC = 192, PLAIN_D = 208;
    /** Bytes of one group's super-block: 32 F16 d, 16 planes of scales, 64 × 3 columns of codes. */
    static final int BLOCK_BYTES = 6720;
    /** Bytes of one chunk: 16 × 3 columns of codes, then its 4 scale planes. */
    static final int CHUNK = 1664;
    static final int PLANES = 1536;
    static final int D = 6656;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    private Q6_Kx32Format() {}

    @Override
    public String name() {
        return "q6_kx32";
    }

    @Override
    public int blockSize() {
        return QK;
    }

    /** Activation codes with one scale per 256 values, as llama.cpp multiplies Q6_K (block_q8_K). */
    @Override
    public int activationBlock() {
        return QK;
    }

    @Override
    public long rowBytes(int cols) {
        return (long) cols / QK * PLAIN;
    }

    // ---- layout ----------------------------------------------------------------------------------

    /** The three code bytes (X, Y, Z) of ggml's bytes lo = ql[l], hi = ql[l + 32], bits = qh[l] (each 0..255), as an int X | Y << 8 | Z << 16. */
    private static int codes(int lo, int hi, int bits) {
        int q0 = lo & 15 | (bits & 3) << 4, q1 = hi & 15 | (bits >> 2 & 3) << 4;
        int q2 = lo >> 4 | (bits >> 4 & 3) << 4, q3 = hi >> 4 | (bits >> 6 & 3) << 4;
        return (q0 | (q3 & 3) << 6) | (q1 | (q3 >> 2 & 3) << 6) << 8 | (q2 | (q3 >> 4) << 6) << 16;
    }

    /** {@link #codes} undone: ggml's lo | hi << 8 | bits << 16 from X, Y, Z (each 0..255). */
    private static int ggml(int x, int y, int z) {
        int q0 = x & 63, q1 = y & 63, q2 = z & 63, q3 = x >> 6 | (y >> 6) << 2 | (z >> 6) << 4;
        int lo = q0 & 15 | (q2 & 15) << 4, hi = q1 & 15 | (q3 & 15) << 4;
        int bits = q0 >> 4 | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6;
        return lo | hi << 8 | bits << 16;
    }

    /** One ggml super-block (210 bytes at src[s]) into lane r of a group's super-block at dst[o]. */
    private static void scatter(byte[] src, int s, byte[] dst, int o, int r) {
        dst[o + scaleByte(r)] = src[s + PLAIN_D];
        dst[o + scaleByte(r) + 1] = src[s + PLAIN_D + 1];
        for (int g = 0; g < 16; g++) dst[o + plane(g) + r] = src[s + PLAIN_SC + g];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int c = codes(src[s + 64 * h + l] & 0xff, src[s + 64 * h + l + 32] & 0xff, src[s + PLAIN_QH + 32 * h + l] & 0xff);
                int col = o + column(h, l) + r;
                dst[col] = (byte) c;
                dst[col + 32] = (byte) (c >> 8);
                dst[col + 64] = (byte) (c >> 16);
            }
        }
    }

    /**
     * A new native matrix in this layout holding the (rows, cols) ggml Q6_K rows at plain[off ..]; null when a d is Inf
     * or NaN.
     */
    public static MemorySegment interleave(MemorySegment plain, long off, int rows, int cols) {
        check(rows, cols);
        return RowGroupFormats.interleave("Q6_K", plain, off, rows, cols, QK, PLAIN, BLOCK_BYTES, (src, o, r, dst, d) -> {
            scatter(src, o, dst, d, r);
            return (src[o + PLAIN_D + 1] & 0x7c) != 0x7c;
        });
    }

    /** The ggml Q6_K row of the row at w[rowOff] of this layout, into dst[p ..]. */
    private static void gather(MemorySegment w, long rowOff, long rb, int blocks, byte[] dst, int p) {
        int lane = RowGroupFormats.lane(rowOff, rb);
        for (int b = 0; b < blocks; b++) {
            long o = RowGroupFormats.blockOffset(rowOff, rb, b, BLOCK_BYTES);
            int q = p + b * PLAIN;
            dst[q + PLAIN_D] = w.get(ValueLayout.JAVA_BYTE, o + scaleByte(lane));
            dst[q + PLAIN_D + 1] = w.get(ValueLayout.JAVA_BYTE, o + scaleByte(lane) + 1);
            for (int g = 0; g < 16; g++) dst[q + PLAIN_SC + g] = w.get(ValueLayout.JAVA_BYTE, o + plane(g) + lane);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l++) {
                    long col = o + column(h, l) + lane;
                    int c = ggml(w.get(ValueLayout.JAVA_BYTE, col) & 0xff, w.get(ValueLayout.JAVA_BYTE, col + 32) & 0xff,
                            w.get(ValueLayout.JAVA_BYTE, col + 64) & 0xff);
                    dst[q + 64 * h + l] = (byte) c;
                    dst[q + 64 * h + l + 32] = (byte) (c >> 8);
                    dst[q + PLAIN_QH + 32 * h + l] = (byte) (c >> 16);
                }
            }
        }
    }

    /** The ggml Q6_K rows of a (rows, cols) matrix of this layout at w[off ..] (what files hold), on the heap. */
    public static MemorySegment plain(MemorySegment w, long off, int rows, int cols) {
        check(rows, cols);
        int plainRow = cols / QK * PLAIN;
        byte[] out = new byte[Math.multiplyExact(rows, plainRow)];
        long rb = INSTANCE.rowBytes(cols);
        for (int r = 0; r < rows; r++) gather(w, off + r * rb, rb, cols / QK, out, r * plainRow);
        return MemorySegment.ofArray(out);
    }

    /** t in this layout when it is a whole Q6_K matrix of whole groups of rows and {@link #ENABLED}, else t ({@link RowGroupFormats#repack}). */
    public static Tensor repacked(Tensor t) {
        return RowGroupFormats.repack(t, Q6KFormat.INSTANCE, INSTANCE, ENABLED, Q6_Kx32Format::interleave);
    }

    /** A whole matrix of this layout as ggml Q6_K rows (for writing files); any other tensor unchanged. */
    public static Tensor unpacked(Tensor t) {
        return RowGroupFormats.unpack(t, INSTANCE, Q6KFormat.INSTANCE, Q6_Kx32Format::plain);
    }

    private static void check(int rows, int cols) {
        RowGroupFormats.checkShape("q6_kx32", rows, cols, QK);
    }

    /** Offset of the X column of (half h, l) in a super-block: chunk 2h + l / 16, column l mod 16. */
    private static int column(int h, int l) {
        return CHUNK * (2 * h + l / 16) + 96 * (l % 16);
    }

    /** Offset of scale plane g (g = 8h + 2k + l / 16) in a super-block: the planes of chunk (h, l / 16), quarter k. */
    private static int plane(int g) {
        return CHUNK * (2 * (g / 8) + g % 2) + PLANES + 32 * (g % 8 / 2);
    }

    /** Byte of row r's F16 d within its group's super-block: word r mod 16, half r / 16. */
    private static int scaleByte(int r) {
        return D + RowGroupFormats.wordHalf(r);
    }

    // ---- row primitives (loads, tests, the input gradient): one row gathered from its group ------------

    /** The row quantized by ggml's Q6_K quantizer into its group; a d that is Inf or NaN is refused. */
    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        byte[] row = new byte[cols / QK * PLAIN];
        Q6KFormat.INSTANCE.quantizeRow(src, srcOff, MemorySegment.ofArray(row), 0, cols);
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(dstOff, rb);
        byte[] block = new byte[BLOCK_BYTES];
        for (int b = 0; b < cols / QK; b++) {
            if ((row[b * PLAIN + PLAIN_D + 1] & 0x7c) == 0x7c) {
                throw new IllegalArgumentException("q6_kx32: row " + dstOff / rb + " has a non-finite scale in columns " + b * QK + ".." + (b * QK + QK - 1));
            }
            long o = RowGroupFormats.blockOffset(dstOff, rb, b, BLOCK_BYTES);
            MemorySegment.copy(dst, ValueLayout.JAVA_BYTE, o, block, 0, BLOCK_BYTES);
            scatter(row, b * PLAIN, block, 0, lane);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, o, BLOCK_BYTES);
        }
    }

    /** d·sc_g·(q − 32) per weight, in that order: the floats of {@link Q6KFormat#dequantizeRow}. */
    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long rb = rowBytes(cols);
        int lane = RowGroupFormats.lane(rowOff, rb);
        for (int b = from / QK; b < (from + n) / QK; b++) {
            long o = RowGroupFormats.blockOffset(rowOff, rb, b, BLOCK_BYTES);
            float d = Float.float16ToFloat(w.get(QuantVectors.SHORT, o + scaleByte(lane)));
            int y = dstOff + b * QK - from;
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l++) {
                    long col = o + column(h, l) + lane;
                    int x = w.get(ValueLayout.JAVA_BYTE, col) & 0xff, yb = w.get(ValueLayout.JAVA_BYTE, col + 32) & 0xff;
                    int z = w.get(ValueLayout.JAVA_BYTE, col + 64) & 0xff;
                    long sc = o + plane(8 * h + l / 16) + lane;             // quarter k's scale: + 32·k
                    int t = y + 128 * h + l;
                    dst[t] = d * w.get(ValueLayout.JAVA_BYTE, sc) * ((x & 63) - 32);
                    dst[t + 32] = d * w.get(ValueLayout.JAVA_BYTE, sc + 32) * ((yb & 63) - 32);
                    dst[t + 64] = d * w.get(ValueLayout.JAVA_BYTE, sc + 64) * ((z & 63) - 32);
                    dst[t + 96] = d * w.get(ValueLayout.JAVA_BYTE, sc + 96) * ((x >> 6 | (yb >> 6) << 2 | (z >> 6) << 4) - 32);
                }
            }
        }
    }

    /** Σ_k w_k·x_k in F32 over the dequantized row (exact activations; the products use {@link #multiplyGroups}). */
    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        float[] row = new float[cols];
        dequantize(w, rowOff, cols, 0, cols, row, 0);
        float acc = 0f;
        for (int k = 0; k < cols; k++) acc = Math.fma(row[k], x[xOff + k], acc);
        return acc;
    }

    // ---- the product --------------------------------------------------------------------------------

    @Override
    public void multiplyGroups(MemorySegment w, long offset, int g0, int g1, int cols, Q8Rows x, float[] out, int outOff, int outStride) {
        if (g1 <= g0) return;
        if (x.cols() != cols) throw new IllegalArgumentException("activations of " + x.cols() + " columns for a weight of " + cols);
        if (x.block() != QK) throw new IllegalArgumentException("q6_kx32 takes activation codes per 256 values, not per " + x.block());
        if (cols % QK != 0) throw new IllegalArgumentException("q6_kx32: " + cols + " columns are not whole 256-blocks");
        int m = x.rows(), blocks = cols / QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        MemorySegment seg = QuantVectors.nativeRows(w, offset + g0 * groupBytes, (g1 - g0) * groupBytes);
        long base = QuantVectors.checkedAddress(seg, seg == w ? offset + g0 * groupBytes : 0, (g1 - g0) * groupBytes);
        if (m > 0) java.util.Objects.checkFromIndexSize(outOff + (long) (m - 1) * outStride + (long) g0 * GROUP, (long) (g1 - g0) * GROUP, out.length);
        if (QuantVectors.L == 8) Q6_Kx32Lanes8.multiply(base, g0, g1, blocks, x, out, outOff, outStride);
        else multiply512(base, g0, g1, blocks, x, out, outOff, outStride);
        java.lang.ref.Reference.reachabilityFence(w);   // read by address above: w must outlive the kernel
    }

    /**
     * The 512-bit kernel on groups [g0, g1) at address base (group g0), every row of x; it runs on any machine (the Vector
     * API computes vectors wider than the hardware's in Java, slowly), so tests compare it with {@link Q6_Kx32Lanes8} on AVX2.
     */
    static void multiply512(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows();
        short[] c8 = x.sums8();   // Σ of each 8 consecutive codes; 32 times it (|·| ≤ 32512) makes the wrapped 16-bit sums exact
        int i = 0;
        for (; i + 3 < m; i += 4) rows4(base, g0, g1, blocks, x, c8, i, out, outOff + i * outStride, outStride);
        for (; i < m; i++) row1(base, g0, g1, blocks, x, c8, i, out, outOff + i * outStride);
    }

    /**
     * One activation row times groups [g0, g1), group g0 at address base: row r's output at out[o + r]. The loop over the
     * groups is inside the kernel, so that each kernel compiles on its own (as {@link Q4_0x32Format}'s).
     */
    private static void row1(long base, int g0, int g1, int blocks, Q8Rows x, short[] c8, int i, float[] out, int o) {
        for (int g = g0; g < g1; g++) row1(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, c8, i, out, o + g * GROUP);
    }

    /** One activation row times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, Q8Rows x, short[] c8, int i, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int xo = i * blocks * QK;
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            IntVector t0 = IntVector.zero(I), t1 = t0;
            for (int h = 0; h < 2; h++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    int k = xo + b * QK + 128 * h + l0;                    // the activation of weight (h, l0, quarter 0)
                    long col = c + CHUNK * (2 * h + l0 / 16);                // chunk (h, l0): its codes, then its planes
                    ShortVector s0 = ShortVector.zero(S), s1 = s0, s2 = s0, s3 = s0, u0 = s0, u1 = s0, u2 = s0, u3 = s0;
                    for (int j = 0; j < 8; j++) {                          // columns l0 .. l0 + 7 of each quarter
                        long p = col + 96 * j;
                        ShortVector vx = (ShortVector) ByteVector.fromMemorySegment(B, mem, p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector vy = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector vz = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 4).and((short) 12))
                                .or(vz.lanewise(VectorOperators.LSHR, 2).and((short) 48));
                        s0 = s0.add(vx.and((short) 63).mul(a[k + j]));
                        s1 = s1.add(vy.and((short) 63).mul(a[k + j + 32]));
                        s2 = s2.add(vz.and((short) 63).mul(a[k + j + 64]));
                        s3 = s3.add(q3.mul(a[k + j + 96]));
                    }
                    for (int j = 8; j < 16; j++) {                         // columns l0 + 8 .. l0 + 15: the same
                        long p = col + 96 * j;
                        ShortVector vx = (ShortVector) ByteVector.fromMemorySegment(B, mem, p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector vy = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector vz = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                        ShortVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 4).and((short) 12))
                                .or(vz.lanewise(VectorOperators.LSHR, 2).and((short) 48));
                        u0 = u0.add(vx.and((short) 63).mul(a[k + j]));
                        u1 = u1.add(vy.and((short) 63).mul(a[k + j + 32]));
                        u2 = u2.add(vz.and((short) 63).mul(a[k + j + 64]));
                        u3 = u3.add(q3.mul(a[k + j + 96]));
                    }
                    int e = k / 8;                                         // c8 of columns k .. k + 7
                    s0 = s0.sub((short) (c8[e] << 5));
                    u0 = u0.sub((short) (c8[e + 1] << 5));
                    s1 = s1.sub((short) (c8[e + 4] << 5));
                    u1 = u1.sub((short) (c8[e + 5] << 5));
                    s2 = s2.sub((short) (c8[e + 8] << 5));
                    u2 = u2.sub((short) (c8[e + 9] << 5));
                    s3 = s3.sub((short) (c8[e + 12] << 5));
                    u3 = u3.sub((short) (c8[e + 13] << 5));
                    long sc = col + PLANES;                                // plane of quarter k's group: + 32·k
                    t0 = t0.add(((IntVector) s0.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) u0.convertShape(VectorOperators.S2I, I, 0))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t1 = t1.add(((IntVector) s0.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) u0.convertShape(VectorOperators.S2I, I, 1))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 16, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t0 = t0.add(((IntVector) s1.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) u1.convertShape(VectorOperators.S2I, I, 0))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 32, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t1 = t1.add(((IntVector) s1.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) u1.convertShape(VectorOperators.S2I, I, 1))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 48, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t0 = t0.add(((IntVector) s2.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) u2.convertShape(VectorOperators.S2I, I, 0))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 64, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t1 = t1.add(((IntVector) s2.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) u2.convertShape(VectorOperators.S2I, I, 1))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 80, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t0 = t0.add(((IntVector) s3.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) u3.convertShape(VectorOperators.S2I, I, 0))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 96, LE).convertShape(VectorOperators.B2I, I, 0)));
                    t1 = t1.add(((IntVector) s3.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) u3.convertShape(VectorOperators.S2I, I, 1))
                            .mul((IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 112, LE).convertShape(VectorOperators.B2I, I, 0)));
                }
            }
            // the 32 F16 d widened as in Q4_0x32Format (magnitude bits into F32's place, times 2^112, sign OR-ed back),
            // written out as there
            float da = x.scales()[i * blocks + b];
            IntVector hw = IntVector.fromMemorySegment(I, mem, c + D, LE);
            FloatVector d0 = hw.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hw.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = hw.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hw.and(0x80000000)).reinterpretAsFloats();
            f0 = ((FloatVector) t0.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f0);
            f1 = ((FloatVector) t1.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f1);
        }
        f0.intoArray(out, o);
        f1.intoArray(out, o + 16);
    }

    /** Four activation rows (i to i + 3) times groups [g0, g1): {@link #row1}'s outputs, each column of codes decoded once. */
    private static void rows4(long base, int g0, int g1, int blocks, Q8Rows x, short[] c8, int i, float[] out, int o, int stride) {
        for (int g = g0; g < g1; g++) rows4(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, c8, i, out, o + g * GROUP, stride);
    }

    /**
     * Per 8 columns of each quarter, 16 sums (4 rows × 4 quarters) in 16-bit lanes, each corrected, widened and scaled
     * before the next 8 columns (the two 8-column sums of a 16-group are not added before the scale, as in {@link #row1}:
     * that would hold 32 sums in registers). The running F32 sums stay in out between super-blocks: kept in 8 more
     * registers beside the 16 sums and 8 integer totals, they made C2 spill inside the column loop (65 against 80 GFLOP/s,
     * 5632 × 2048 at 128 rows, one thread, 2026-12-06). Splitting the quarters into two passes of 8 sums, or keeping
     * the totals in memory, ran at 72–73.
     */
    private static void rows4(long group, int blocks, Q8Rows x, short[] c8, int i, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int cols = blocks * QK, xo = i * cols;
        for (int r = 0; r < 4; r++) java.util.Arrays.fill(out, o + r * stride, o + r * stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            IntVector t00 = IntVector.zero(I), t01 = t00, t10 = t00, t11 = t00, t20 = t00, t21 = t00, t30 = t00, t31 = t00;
            for (int l0 = 0; l0 < 64; l0 += 8) {                           // h = l0 / 32, l = l0 % 32 .. + 7
                int h = l0 >> 5;
                int k = xo + b * QK + 128 * h + (l0 & 31);
                long col = c + CHUNK * (l0 >> 4) + 96 * (l0 & 15);
                ShortVector s00 = ShortVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
                ShortVector s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
                for (int j = 0; j < 8; j++) {
                    long p = col + 96 * j;
                    ShortVector vx = (ShortVector) ByteVector.fromMemorySegment(B, mem, p, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vy = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vz = (ShortVector) ByteVector.fromMemorySegment(B, mem, p + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector q3 = vx.lanewise(VectorOperators.LSHR, 6).or(vy.lanewise(VectorOperators.LSHR, 4).and((short) 12))
                            .or(vz.lanewise(VectorOperators.LSHR, 2).and((short) 48));
                    ShortVector q0 = vx.and((short) 63), q1 = vy.and((short) 63), q2 = vz.and((short) 63);
                    int kj = k + j;
                    s00 = s00.add(q0.mul(a[kj]));
                    s01 = s01.add(q1.mul(a[kj + 32]));
                    s02 = s02.add(q2.mul(a[kj + 64]));
                    s03 = s03.add(q3.mul(a[kj + 96]));
                    s10 = s10.add(q0.mul(a[kj + cols]));
                    s11 = s11.add(q1.mul(a[kj + cols + 32]));
                    s12 = s12.add(q2.mul(a[kj + cols + 64]));
                    s13 = s13.add(q3.mul(a[kj + cols + 96]));
                    s20 = s20.add(q0.mul(a[kj + 2 * cols]));
                    s21 = s21.add(q1.mul(a[kj + 2 * cols + 32]));
                    s22 = s22.add(q2.mul(a[kj + 2 * cols + 64]));
                    s23 = s23.add(q3.mul(a[kj + 2 * cols + 96]));
                    s30 = s30.add(q0.mul(a[kj + 3 * cols]));
                    s31 = s31.add(q1.mul(a[kj + 3 * cols + 32]));
                    s32 = s32.add(q2.mul(a[kj + 3 * cols + 64]));
                    s33 = s33.add(q3.mul(a[kj + 3 * cols + 96]));
                }
                int e = k / 8, r1 = cols / 8;                               // c8 of row i's columns k .. k + 7; next row + r1
                long sc = c + CHUNK * (l0 >> 4) + PLANES;                   // quarter q's plane: + 32·q
                IntVector sl = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector sh = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 16, LE).convertShape(VectorOperators.B2I, I, 0);
                s00 = s00.sub((short) (c8[e] << 5));
                s10 = s10.sub((short) (c8[e + r1] << 5));
                s20 = s20.sub((short) (c8[e + 2 * r1] << 5));
                s30 = s30.sub((short) (c8[e + 3 * r1] << 5));
                t00 = t00.add(((IntVector) s00.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t01 = t01.add(((IntVector) s00.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t10 = t10.add(((IntVector) s10.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t11 = t11.add(((IntVector) s10.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t20 = t20.add(((IntVector) s20.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t21 = t21.add(((IntVector) s20.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t30 = t30.add(((IntVector) s30.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t31 = t31.add(((IntVector) s30.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                sl = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 32, LE).convertShape(VectorOperators.B2I, I, 0);
                sh = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 48, LE).convertShape(VectorOperators.B2I, I, 0);
                s01 = s01.sub((short) (c8[e + 4] << 5));
                s11 = s11.sub((short) (c8[e + 4 + r1] << 5));
                s21 = s21.sub((short) (c8[e + 4 + 2 * r1] << 5));
                s31 = s31.sub((short) (c8[e + 4 + 3 * r1] << 5));
                t00 = t00.add(((IntVector) s01.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t01 = t01.add(((IntVector) s01.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t10 = t10.add(((IntVector) s11.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t11 = t11.add(((IntVector) s11.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t20 = t20.add(((IntVector) s21.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t21 = t21.add(((IntVector) s21.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t30 = t30.add(((IntVector) s31.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t31 = t31.add(((IntVector) s31.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                sl = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 64, LE).convertShape(VectorOperators.B2I, I, 0);
                sh = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 80, LE).convertShape(VectorOperators.B2I, I, 0);
                s02 = s02.sub((short) (c8[e + 8] << 5));
                s12 = s12.sub((short) (c8[e + 8 + r1] << 5));
                s22 = s22.sub((short) (c8[e + 8 + 2 * r1] << 5));
                s32 = s32.sub((short) (c8[e + 8 + 3 * r1] << 5));
                t00 = t00.add(((IntVector) s02.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t01 = t01.add(((IntVector) s02.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t10 = t10.add(((IntVector) s12.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t11 = t11.add(((IntVector) s12.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t20 = t20.add(((IntVector) s22.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t21 = t21.add(((IntVector) s22.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t30 = t30.add(((IntVector) s32.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t31 = t31.add(((IntVector) s32.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                sl = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 96, LE).convertShape(VectorOperators.B2I, I, 0);
                sh = (IntVector) ByteVector.fromMemorySegment(B16, mem, sc + 112, LE).convertShape(VectorOperators.B2I, I, 0);
                s03 = s03.sub((short) (c8[e + 12] << 5));
                s13 = s13.sub((short) (c8[e + 12 + r1] << 5));
                s23 = s23.sub((short) (c8[e + 12 + 2 * r1] << 5));
                s33 = s33.sub((short) (c8[e + 12 + 3 * r1] << 5));
                t00 = t00.add(((IntVector) s03.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t01 = t01.add(((IntVector) s03.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t10 = t10.add(((IntVector) s13.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t11 = t11.add(((IntVector) s13.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t20 = t20.add(((IntVector) s23.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t21 = t21.add(((IntVector) s23.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
                t30 = t30.add(((IntVector) s33.convertShape(VectorOperators.S2I, I, 0)).mul(sl));
                t31 = t31.add(((IntVector) s33.convertShape(VectorOperators.S2I, I, 1)).mul(sh));
            }
            IntVector hw = IntVector.fromMemorySegment(I, mem, c + D, LE);       // row1's conversions, written out as there
            FloatVector d0 = hw.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hw.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = hw.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hw.and(0x80000000)).reinterpretAsFloats();
            float[] ds = x.scales();
            float da = ds[i * blocks + b];
            int p = o;
            ((FloatVector) t00.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p)).intoArray(out, p);
            ((FloatVector) t01.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16)).intoArray(out, p + 16);
            da = ds[(i + 1) * blocks + b];
            p += stride;
            ((FloatVector) t10.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p)).intoArray(out, p);
            ((FloatVector) t11.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16)).intoArray(out, p + 16);
            da = ds[(i + 2) * blocks + b];
            p += stride;
            ((FloatVector) t20.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p)).intoArray(out, p);
            ((FloatVector) t21.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16)).intoArray(out, p + 16);
            da = ds[(i + 3) * blocks + b];
            p += stride;
            ((FloatVector) t30.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p)).intoArray(out, p);
            ((FloatVector) t31.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16)).intoArray(out, p + 16);
        }
    }
}
