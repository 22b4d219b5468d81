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
 * Q4_K weights repacked on load for integer products (jtune's in-memory layout; files keep ggml's {@link Q4KFormat}
 * rows), as {@link Q4_0x32Format} does for Q4_0: rows in groups of 32, and per group and super-block of 256 columns
 * 4608 bytes, as many as ggml's 32 blocks of 144, in the order the kernel reads them:
 * <ul>
 * <li>4 chunks of 64 weights (sub-blocks 2c and 2c + 1), 1120 bytes each: 32 columns of 32 code bytes, byte r of
 *     column 2l + s (l &lt; 16, s = 0, 1) holding row r's weights 64c + 32s + l (low nibble) and 64c + 32s + l + 16 (high
 *     nibble) — each sub-block's codes paired as Q4_0's block pairs them, the two sub-blocks' columns alternating so
 *     that the kernel reads them in address order ({@link #codeByte}) — then 3 planes of 32 row bytes holding the 6-bit
 *     scales and mins of the two sub-blocks (sc_l, m_l, sc_h, m_h): sc_l | (m_h &amp; 3) &lt;&lt; 6, sc_h | (m_h &gt;&gt; 2 &amp; 3)
 *     &lt;&lt; 6, m_l | (m_h &gt;&gt; 4) &lt;&lt; 6 — ggml's 12 packed bytes hold the same 96 bits ({@link #toPlanes},
 *     {@link #fromPlanes});</li>
 * <li>then the 32 rows' F16 d, and their F16 dmin, each as 16 little-endian words, word t holding row t's in its low
 *     half and row t + 16's in its high half (one 512-bit load widens them to two F32 vectors exactly).</li>
 * </ul>
 * Read in address order: the first version of this class kept ggml's 12 scale bytes as 12 planes ahead of the codes
 * (revisited by every chunk) and d first, and its GEMV streamed from memory no faster than ggml's rows (~9 GB/s on one
 * thread, 14 on two) although 3 × faster from cache; in this order 14.5–15.4 GB/s on one thread and 19 on two (5632 ×
 * 2048, 12 matrices cycled, 2026-12-05). ggml's byte qs[32c + l] holds weights 64c + l and 64c + 32 + l, of two
 * sub-blocks; with both nibbles of a byte in one sub-block the 256-bit kernel needs no mask (its activations paired as
 * Q4_0's, {@link Q8Rows#pairedCodes}), and 5632 × 2048 at one activation row took 0.84 → 0.70 ms on one thread with
 * that and its sums' shorter widening (Zen 3, from DRAM, 2026-12-07).
 * w = d·sc_j·q − dmin·m_j for the weights of sub-block j, as in Q4_K. A d or dmin that is Inf or NaN has no exact
 * widening: a matrix holding one keeps ggml's rows.
 *
 * <p>The product ({@link #multiplyGroups}) takes activations as ggml's block_q8_K: one scale d_a per 256 values, codes
 * |a| ≤ 127, and the sum A_j of each 32-block's codes; as llama.cpp multiplies Q4_K, per super-block and row
 * y += d_a·(d·Σ_j sc_j·Σ_{k∈j} q_k·a_k − dmin·Σ_j m_j·A_j), the sums in integers. Σ_{k∈j} q_k·a_k is taken in 16-bit
 * lanes, one per weight row, over the sub-block's 32 columns with wrap-around, then 8·A_j subtracted: the result,
 * Σ (q_k − 8)·a_k, lies within ±8·127·32 = ±32512, so the lanes hold it exactly although the sum before the subtraction
 * may wrap. Widened to 32 bits, plus 8·A_j, times sc_j ≤ 63 and added over the 8 sub-blocks, the total is at most
 * 8·63·15·127·32 ≈ 3.1·10⁷ in magnitude: exact in int32, and so is Σ_j m_j·A_j. Then two F32 multiply-adds per
 * super-block and 16 rows.
 *
 * <p>On with 16 F32 lanes (AVX-512) or 8 (AVX2: {@link Q4_Kx32Lanes8}, the same bits) and {@link QuantVectors#ENABLED};
 * {@code -Djtune.q4_k.interleave=false} keeps ggml's rows and their F32-activation kernel.
 */
public final class Q4_Kx32Format implements RowGroupCodec {
    public static final Q4_Kx32Format INSTANCE = new Q4_Kx32Format();
    /** Whether Q4_K matrices of whole groups of rows are repacked into this layout when loaded or quantized. */
    public static final boolean ENABLED = QuantVectors.ENABLED && (QuantVectors.L == 16 || QuantVectors.L == 8)
            && !"false".equals(System.getProperty("jtune.q4_k.interleave"));
    static final int QK = 256;
    private static final int PLAIN = 144;
    /** Bytes of one group's super-block. */
    static final int BLOCK_BYTES = GROUP * PLAIN;
    /** Bytes of one chunk of 64 columns: 32 columns of 32 code bytes, then 3 planes of 32 bytes of scales and mins. */
    static final int CHUNK = 1120;
    static final int PLANES = 1024;
    static final int D = 4 * CHUNK;
    static final int DMIN = D + 64;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

    private Q4_Kx32Format() {}

    @Override
    public String name() {
        return "q4_kx32";
    }

    @Override
    public int blockSize() {
        return QK;
    }

    /** The 256-bit kernel multiplies the code bytes unmasked ({@link Q4_Kx32Lanes8}). */
    @Override
    public boolean usesPairedCodes() {
        return QuantVectors.L == 8;
    }

    /** One activation scale per 256 values, as llama.cpp multiplies Q4_K (block_q8_K). */
    @Override
    public int activationBlock() {
        return QK;
    }

    @Override
    public long rowBytes(int cols) {
        return (long) cols / QK * PLAIN;
    }

    // ---- layout ----------------------------------------------------------------------------------

    /** Where row r's ggml byte p &lt; 4 of a block (d, then dmin) lies in its group's block of this layout. */
    private static int place(int r, int p) {
        return (p < 2 ? D : DMIN) + 4 * (r & 15) + 2 * (r >> 4) + (p & 1);
    }

    /** The byte of row r's weight k (0..255) in its group's block: in its high nibble when k mod 32 ≥ 16, else its low. */
    static int codeByte(int r, int k) {
        int c = k / 64, s = k / 32 % 2, l = k % 16;
        return c * CHUNK + 64 * l + 32 * s + r;
    }

    /** Where row r's plane byte k (chunk k / 3, plane k mod 3; {@link #toPlanes}) lies in its group's block. */
    private static int planePlace(int r, int k) {
        return k / 3 * CHUNK + PLANES + 32 * (k % 3) + r;
    }

    /**
     * ggml's 12 bytes of packed scales and mins at s[o ..] as this layout's 12 plane bytes, 3 per chunk c: with the
     * 6-bit values of sub-blocks 2c (sc_l, m_l) and 2c + 1 (sc_h, m_h), sc_l | (m_h &amp; 3) &lt;&lt; 6, sc_h | (m_h &gt;&gt; 2
     * &amp; 3) &lt;&lt; 6 and m_l | (m_h &gt;&gt; 4) &lt;&lt; 6. Both packings hold the same 96 bits, so {@link #fromPlanes} gives
     * ggml's bytes back exactly. Written for row r into its group's block at dst[base ..].
     */
    static void toPlanes(byte[] s, int o, int r, byte[] dst, int base) {
        MemorySegment seg = MemorySegment.ofArray(s);
        for (int c = 0; c < 4; c++) {
            int lo = Q4KFormat.scaleMin(seg, o, 2 * c), hi = Q4KFormat.scaleMin(seg, o, 2 * c + 1), mh = hi >>> 8;
            dst[base + planePlace(r, 3 * c)] = (byte) ((lo & 63) | (mh & 3) << 6);
            dst[base + planePlace(r, 3 * c + 1)] = (byte) ((hi & 63) | (mh >>> 2 & 3) << 6);
            dst[base + planePlace(r, 3 * c + 2)] = (byte) ((lo >>> 8) | (mh >>> 4) << 6);
        }
    }

    /** The inverse of {@link #toPlanes}: ggml's 12 packed bytes at s[o ..] (its quantizer's packing of the 8 scales and mins). */
    static void fromPlanes(byte[] planes, byte[] s, int o) {
        int[] sc = new int[8], m = new int[8];
        for (int c = 0; c < 4; c++) {
            int p0 = planes[3 * c] & 0xFF, p1 = planes[3 * c + 1] & 0xFF, p2 = planes[3 * c + 2] & 0xFF;
            sc[2 * c] = p0 & 63;
            sc[2 * c + 1] = p1 & 63;
            m[2 * c] = p2 & 63;
            m[2 * c + 1] = p0 >>> 6 | (p1 >>> 6) << 2 | (p2 >>> 6) << 4;
        }
        for (int i = 0; i < 4; i++) {
            s[o + i] = (byte) (sc[i] | (sc[i + 4] >>> 4) << 6);
            s[o + i + 4] = (byte) (m[i] | (m[i + 4] >>> 4) << 6);
            s[o + i + 8] = (byte) ((sc[i + 4] & 15) | (m[i + 4] & 15) << 4);
        }
    }

    /**
     * A new native matrix in this layout holding the (rows, cols) ggml Q4_K rows at plain[off ..]; null when a d or dmin
     * is Inf or NaN.
     */
    public static MemorySegment interleave(MemorySegment plain, long off, int rows, int cols) {
        check(rows, cols);
        return RowGroupFormats.interleave("Q4_K", plain, off, rows, cols, QK, PLAIN, BLOCK_BYTES, (src, o, r, dst, d) -> {
            scatter(src, o, r, dst, d);
            return (src[o + 1] & 0x7c) != 0x7c && (src[o + 3] & 0x7c) != 0x7c;
        });
    }

    /** Row r's ggml block at src[o ..] written into its group's block at dst[base ..]. */
    private static void scatter(byte[] src, int o, int r, byte[] dst, int base) {
        for (int p = 0; p < 4; p++) dst[base + place(r, p)] = src[o + p];
        for (int k = 0; k < QK; k += 32) {                     // the two nibbles of a byte: weights k + j and k + j + 16
            for (int j = 0; j < 16; j++) dst[base + codeByte(r, k + j)] = (byte) (code(src, o, k + j) | code(src, o, k + j + 16) << 4);
        }
        toPlanes(src, o + 4, r, dst, base);
    }

    /** Weight k's 4-bit code in ggml's block at b[o ..]: qs[32·(k / 64) + k mod 32], low nibble when k mod 64 &lt; 32. */
    private static int code(byte[] b, int o, int k) {
        int q = b[o + 16 + 32 * (k / 64) + k % 32] & 0xFF;
        return k % 64 < 32 ? q & 15 : q >>> 4;
    }

    /** The ggml Q4_K rows of a (rows, cols) matrix of this layout at w[off ..] (what files hold), on the heap. */
    public static MemorySegment plain(MemorySegment w, long off, int rows, int cols) {
        check(rows, cols);
        long rb = INSTANCE.rowBytes(cols);
        byte[] out = new byte[Math.toIntExact(rows * rb)];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / QK; b++) gather(w, off + r * rb, rb, b, out, Math.toIntExact(r * rb + (long) b * PLAIN));
        }
        return MemorySegment.ofArray(out);
    }

    /** ggml's 144 bytes of super-block b of the row at rowOff (row stride rowBytes) into dst[dstOff ..]. */
    private static void gather(MemorySegment w, long rowOff, long rowBytes, int b, byte[] dst, int dstOff) {
        int lane = (int) (rowOff / rowBytes % GROUP);
        long o = rowOff - lane * rowBytes + (long) b * BLOCK_BYTES;
        for (int p = 0; p < 4; p++) dst[dstOff + p] = w.get(ValueLayout.JAVA_BYTE, o + place(lane, p));
        for (int q = 0; q < 128; q++) {                         // ggml's byte qs[q]: weights 64·(q / 32) + q mod 32 and + 32
            int k = 64 * (q / 32) + q % 32;
            dst[dstOff + 16 + q] = (byte) (nibble(w, o, lane, k) | nibble(w, o, lane, k + 32) << 4);
        }
        byte[] planes = new byte[12];
        for (int k = 0; k < 12; k++) planes[k] = w.get(ValueLayout.JAVA_BYTE, o + planePlace(lane, k));
        fromPlanes(planes, dst, dstOff + 4);
    }

    /** Row r's code of weight k from its group's block at w[o ..]. */
    private static int nibble(MemorySegment w, long o, int r, int k) {
        int b = w.get(ValueLayout.JAVA_BYTE, o + codeByte(r, k)) & 0xFF;
        return k % 32 < 16 ? b & 15 : b >>> 4;
    }

    /** t in this layout when it is a whole Q4_K matrix of whole groups of rows and {@link #ENABLED}, else t ({@link RowGroupFormats#repack}). */
    public static Tensor repacked(Tensor t) {
        return RowGroupFormats.repack(t, Q4KFormat.INSTANCE, INSTANCE, ENABLED, Q4_Kx32Format::interleave);
    }

    /** A whole matrix of this layout as ggml Q4_K rows (for writing files); any other tensor unchanged. */
    public static Tensor unpacked(Tensor t) {
        return RowGroupFormats.unpack(t, INSTANCE, Q4KFormat.INSTANCE, Q4_Kx32Format::plain);
    }

    private static void check(int rows, int cols) {
        RowGroupFormats.checkShape("q4_kx32", rows, cols, QK);
    }

    // ---- row primitives (loads, tests, the input gradient): one row gathered from its group ------------

    /** The row quantized by ggml's Q4_K quantizer ({@code quantize_row_q4_K_ref}) into its group; a non-finite d or dmin is refused. */
    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        MemorySegment row = MemorySegment.ofArray(new byte[Math.toIntExact(rowBytes(cols))]);
        Q4KFormat.INSTANCE.quantizeRow(src, srcOff, row, 0, cols);
        long rb = rowBytes(cols);
        int lane = (int) (dstOff / rb % GROUP);
        for (int b = 0; b < cols / QK; b++) {
            if ((row.get(ValueLayout.JAVA_BYTE, (long) b * PLAIN + 1) & 0x7c) == 0x7c || (row.get(ValueLayout.JAVA_BYTE, (long) b * PLAIN + 3) & 0x7c) == 0x7c) {
                throw new IllegalArgumentException("q4_kx32: row " + dstOff / rb + " holds a non-finite value in columns " + b * QK + ".." + (b * QK + QK - 1));
            }
            byte[] block = new byte[BLOCK_BYTES];
            long o = dstOff - lane * rb + (long) b * BLOCK_BYTES;
            MemorySegment.copy(dst, ValueLayout.JAVA_BYTE, o, block, 0, BLOCK_BYTES);
            scatter(row.toArray(ValueLayout.JAVA_BYTE), b * PLAIN, lane, block, 0);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, o, BLOCK_BYTES);
        }
    }

    /** d·sc_j·q − dmin·m_j per weight: the floats of {@link Q4KFormat#dequantizeRow}. */
    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long rb = rowBytes(cols);
        byte[] bytes = new byte[PLAIN];
        MemorySegment block = MemorySegment.ofArray(bytes);
        float[] floats = new float[QK];
        for (int b = from / QK; b < (from + n + QK - 1) / QK; b++) {
            gather(w, rowOff, rb, b, bytes, 0);
            Q4KFormat.INSTANCE.dequantizeRow(block, 0, floats, 0, QK);
            int lo = Math.max(from, b * QK), hi = Math.min(from + n, b * QK + QK);
            System.arraycopy(floats, lo - b * QK, dst, dstOff + lo - from, hi - lo);
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
        if (x.cols() != cols || x.block() != QK) {
            throw new IllegalArgumentException("activations of " + x.cols() + " columns in blocks of " + x.block() + " for a q4_kx32 weight of " + cols);
        }
        int m = x.rows(), blocks = cols / QK;
        long groupBytes = (long) blocks * BLOCK_BYTES;
        MemorySegment seg = QuantVectors.nativeRows(w, offset + g0 * groupBytes, (g1 - g0) * groupBytes);
        long base = QuantVectors.checkedAddress(seg, seg == w ? offset + g0 * groupBytes : 0, (g1 - g0) * groupBytes);
        if (m > 0) java.util.Objects.checkFromIndexSize(outOff + (long) (m - 1) * outStride + (long) g0 * GROUP, (long) (g1 - g0) * GROUP, out.length);
        if (QuantVectors.L == 8) Q4_Kx32Lanes8.multiply(base, g0, g1, blocks, x, out, outOff, outStride);
        else multiply512(base, g0, g1, blocks, x, out, outOff, outStride);
        java.lang.ref.Reference.reachabilityFence(w);   // read by address above: w must outlive the kernel
    }

    /**
     * The 512-bit kernel on groups [g0, g1) at address base (group g0), every row of x; it runs on any machine (the Vector
     * API computes wider vectors than the hardware's in Java, slowly), so tests compare it with {@link Q4_Kx32Lanes8} on AVX2.
     */
    static void multiply512(long base, int g0, int g1, int blocks, Q8Rows x, float[] out, int outOff, int outStride) {
        int m = x.rows(), i = 0;
        for (; i + 3 < m; i += 4) rows4(base, g0, g1, blocks, x, i, out, outOff + i * outStride, outStride);
        for (; i + 1 < m; i += 2) rows2(base, g0, g1, blocks, x, i, out, outOff + i * outStride, outStride);
        for (; i < m; i++) row1(base, g0, g1, blocks, x, i, out, outOff + i * outStride);
    }

    /** One activation row times groups [g0, g1), group g0 at address base (the loop inside the kernel, as in Q4_0x32). */
    private static void row1(long base, int g0, int g1, int blocks, Q8Rows x, int i, float[] out, int o) {
        for (int g = g0; g < g1; g++) row1(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, i, out, o + g * GROUP);
    }

    /** One activation row times one group: out[o .. o + 32). */
    private static void row1(long group, int blocks, Q8Rows x, int i, float[] out, int o) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int[] sums = x.sums();
        int xo = i * blocks * QK, so = i * blocks * 8;
        FloatVector f0 = FloatVector.zero(F), f1 = f0;
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = xo + b * QK, s8 = so + 8 * b;
            IntVector t0 = IntVector.zero(I), t1 = t0, m0 = t0, m1 = t0;
            for (int ch = 0; ch < 4; ch++) {
                ShortVector sl = ShortVector.zero(S), sh = sl;
                long cc = c + (long) CHUNK * ch;
                int kc = k + 64 * ch;
                for (int l = 0; l < 16; l++) {                         // columns 2l (sub-block 2ch) and 2l + 1 (2ch + 1)
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    sl = sl.add(v.and((short) 15).mul(a[kc + l])).add(v.lanewise(VectorOperators.LSHR, 4).mul(a[kc + l + 16]));
                    sh = sh.add(w.and((short) 15).mul(a[kc + l + 32])).add(w.lanewise(VectorOperators.LSHR, 4).mul(a[kc + l + 48]));
                }
                // sub-blocks 2ch (sl) and 2ch + 1 (sh): their 6-bit scales and mins from the chunk's 3 planes
                int j = 2 * ch, al = sums[s8 + j], ah = sums[s8 + j + 1];
                ShortVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)), p1 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)), p2 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0));
                ShortVector scl = p0.and((short) 63), sch = p1.and((short) 63), ml = p2.and((short) 63);
                ShortVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                sl = sl.sub((short) (8 * al));
                sh = sh.sub((short) (8 * ah));
                t0 = t0.add(((IntVector) sl.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul((IntVector) scl.convertShape(VectorOperators.S2I, I, 0)));
                t1 = t1.add(((IntVector) sl.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul((IntVector) scl.convertShape(VectorOperators.S2I, I, 1)));
                t0 = t0.add(((IntVector) sh.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul((IntVector) sch.convertShape(VectorOperators.S2I, I, 0)));
                t1 = t1.add(((IntVector) sh.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul((IntVector) sch.convertShape(VectorOperators.S2I, I, 1)));
                m0 = m0.add(((IntVector) ml.convertShape(VectorOperators.S2I, I, 0)).mul(al)).add(((IntVector) mh.convertShape(VectorOperators.S2I, I, 0)).mul(ah));
                m1 = m1.add(((IntVector) ml.convertShape(VectorOperators.S2I, I, 1)).mul(al)).add(((IntVector) mh.convertShape(VectorOperators.S2I, I, 1)).mul(ah));
            }
            // d and dmin widened (magnitude bits into F32's place, times 2^112, sign OR-ed back; exact for finite values),
            // written out as in Q4_0x32 (as helper methods C2 compiled such kernels slower)
            float da = x.scales()[i * blocks + b];
            IntVector h = IntVector.fromMemorySegment(I, mem, c + D, LE), hm = IntVector.fromMemorySegment(I, mem, c + DMIN, LE);
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            FloatVector n0 = hm.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hm.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector n1 = hm.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hm.and(0x80000000)).reinterpretAsFloats();
            f0 = ((FloatVector) t0.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), f0);
            f1 = ((FloatVector) t1.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), f1);
            f0 = ((FloatVector) m0.convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), f0);
            f1 = ((FloatVector) m1.convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), f1);
        }
        f0.intoArray(out, o);
        f1.intoArray(out, o + 16);
    }

    /** Four activation rows (i to i + 3) times groups [g0, g1): {@link #row1}'s outputs, each column of codes decoded once. */
    private static void rows4(long base, int g0, int g1, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        int[] mins = new int[4 * GROUP], totals = new int[4 * GROUP];
        for (int g = g0; g < g1; g++) rows4(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, i, out, o + g * GROUP, stride, mins, totals);
    }

    /**
     * Four activation rows at once: {@link #row1}'s integer totals and its two F32 multiply-adds per super-block, in the
     * same order (so each row's outputs are its GEMV's bits). 8 sums in 16-bit lanes (4 rows × the chunk's two
     * sub-blocks) and 8 integer totals stay in registers; the mins' totals Σ m_j·A_j wait in {@code mins} and the running
     * F32 sums in out, between chunks and super-blocks. (A first 4-row kernel kept the mins' totals in 8 more registers
     * and C2 spilled; with them in memory, 5632 × 2048 at 128 rows on one thread: 95 → 112 GFLOP/s against {@link #rows2},
     * 2026-12-06. With the mins and the F32 step inline, C1 gave up on the method ("out of virtual registers") and some
     * processes ran it 8 × slower; in {@link #addMins} and {@link #finish}: 106.)
     */
    private static void rows4(long group, int blocks, Q8Rows x, int i, float[] out, int o, int stride, int[] mins, int[] totals) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int[] sums = x.sums();
        int cols = blocks * QK, sr = 8 * blocks;
        for (int r = 0; r < 4; r++) java.util.Arrays.fill(out, o + r * stride, o + r * stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = i * cols + b * QK, s8 = i * sr + 8 * b;
            IntVector z = IntVector.zero(I), t00 = z, t01 = z, t10 = z, t11 = z, t20 = z, t21 = z, t30 = z, t31 = z;
            java.util.Arrays.fill(mins, 0);
            for (int ch = 0; ch < 4; ch++) {
                ShortVector zs = ShortVector.zero(S), l0 = zs, h0 = zs, l1 = zs, h1 = zs, l2 = zs, h2 = zs, l3 = zs, h3 = zs;
                long cc = c + (long) CHUNK * ch;
                int kc = k + 64 * ch;
                for (int l = 0; l < 16; l++) {                         // columns 2l (sub-block 2ch) and 2l + 1 (2ch + 1)
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vl = v.and((short) 15), vh = v.lanewise(VectorOperators.LSHR, 4), wl = w.and((short) 15), wh = w.lanewise(VectorOperators.LSHR, 4);
                    l0 = l0.add(vl.mul(a[kc + l])).add(vh.mul(a[kc + l + 16]));
                    h0 = h0.add(wl.mul(a[kc + l + 32])).add(wh.mul(a[kc + l + 48]));
                    l1 = l1.add(vl.mul(a[kc + cols + l])).add(vh.mul(a[kc + cols + l + 16]));
                    h1 = h1.add(wl.mul(a[kc + cols + l + 32])).add(wh.mul(a[kc + cols + l + 48]));
                    l2 = l2.add(vl.mul(a[kc + 2 * cols + l])).add(vh.mul(a[kc + 2 * cols + l + 16]));
                    h2 = h2.add(wl.mul(a[kc + 2 * cols + l + 32])).add(wh.mul(a[kc + 2 * cols + l + 48]));
                    l3 = l3.add(vl.mul(a[kc + 3 * cols + l])).add(vh.mul(a[kc + 3 * cols + l + 16]));
                    h3 = h3.add(wl.mul(a[kc + 3 * cols + l + 32])).add(wh.mul(a[kc + 3 * cols + l + 48]));
                }
                int j = 2 * ch;                                               // row1's scales and mins of sub-blocks j, j + 1
                ShortVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)), p1 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0));
                ShortVector scl = p0.and((short) 63), sch = p1.and((short) 63);
                IntVector sl0 = (IntVector) scl.convertShape(VectorOperators.S2I, I, 0), sl1 = (IntVector) scl.convertShape(VectorOperators.S2I, I, 1);
                IntVector sh0 = (IntVector) sch.convertShape(VectorOperators.S2I, I, 0), sh1 = (IntVector) sch.convertShape(VectorOperators.S2I, I, 1);
                int al = sums[s8 + j], ah = sums[s8 + j + 1];
                l0 = l0.sub((short) (8 * al));
                h0 = h0.sub((short) (8 * ah));
                t00 = t00.add(((IntVector) l0.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h0.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t01 = t01.add(((IntVector) l0.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h0.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                al = sums[s8 + sr + j];
                ah = sums[s8 + sr + j + 1];
                l1 = l1.sub((short) (8 * al));
                h1 = h1.sub((short) (8 * ah));
                t10 = t10.add(((IntVector) l1.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h1.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t11 = t11.add(((IntVector) l1.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h1.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                al = sums[s8 + 2 * sr + j];
                ah = sums[s8 + 2 * sr + j + 1];
                l2 = l2.sub((short) (8 * al));
                h2 = h2.sub((short) (8 * ah));
                t20 = t20.add(((IntVector) l2.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h2.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t21 = t21.add(((IntVector) l2.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h2.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                al = sums[s8 + 3 * sr + j];
                ah = sums[s8 + 3 * sr + j + 1];
                l3 = l3.sub((short) (8 * al));
                h3 = h3.sub((short) (8 * ah));
                t30 = t30.add(((IntVector) l3.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h3.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t31 = t31.add(((IntVector) l3.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h3.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                addMins(cc, sums, s8 + j, sr, mins);
            }
            t00.intoArray(totals, 0);
            t01.intoArray(totals, 16);
            t10.intoArray(totals, 32);
            t11.intoArray(totals, 48);
            t20.intoArray(totals, 64);
            t21.intoArray(totals, 80);
            t30.intoArray(totals, 96);
            t31.intoArray(totals, 112);
            finish(c, totals, mins, x.scales(), i * blocks + b, blocks, out, o, stride);
        }
    }

    /**
     * The mins' part of a chunk at cc for 4 rows: mins[32r ..] += m_j·A_j + m_{j+1}·A_{j+1}, with row r's code sums at
     * sums[s + r·sr] and [s + r·sr + 1]. Its own method, like {@link #finish}: inside {@link #rows4} C2's first tier gave
     * up on the size and the second compiled it boxed (a 1.1B prefill 8 × slower).
     */
    private static void addMins(long cc, int[] sums, int s, int sr, int[] mins) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        ShortVector p0 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
        ShortVector p1 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
        ShortVector p2 = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
        ShortVector ml = p2.and((short) 63), mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
        IntVector ml0 = (IntVector) ml.convertShape(VectorOperators.S2I, I, 0), ml1 = (IntVector) ml.convertShape(VectorOperators.S2I, I, 1);
        IntVector mh0 = (IntVector) mh.convertShape(VectorOperators.S2I, I, 0), mh1 = (IntVector) mh.convertShape(VectorOperators.S2I, I, 1);
        int al = sums[s];
        int ah = sums[s + 1];
        IntVector.fromArray(I, mins, 0).add(ml0.mul(al)).add(mh0.mul(ah)).intoArray(mins, 0);
        IntVector.fromArray(I, mins, 16).add(ml1.mul(al)).add(mh1.mul(ah)).intoArray(mins, 16);
        al = sums[s + sr];
        ah = sums[s + sr + 1];
        IntVector.fromArray(I, mins, 32).add(ml0.mul(al)).add(mh0.mul(ah)).intoArray(mins, 32);
        IntVector.fromArray(I, mins, 48).add(ml1.mul(al)).add(mh1.mul(ah)).intoArray(mins, 48);
        al = sums[s + 2 * sr];
        ah = sums[s + 2 * sr + 1];
        IntVector.fromArray(I, mins, 64).add(ml0.mul(al)).add(mh0.mul(ah)).intoArray(mins, 64);
        IntVector.fromArray(I, mins, 80).add(ml1.mul(al)).add(mh1.mul(ah)).intoArray(mins, 80);
        al = sums[s + 3 * sr];
        ah = sums[s + 3 * sr + 1];
        IntVector.fromArray(I, mins, 96).add(ml0.mul(al)).add(mh0.mul(ah)).intoArray(mins, 96);
        IntVector.fromArray(I, mins, 112).add(ml1.mul(al)).add(mh1.mul(ah)).intoArray(mins, 112);
    }

    /** The F32 step of a super-block at c for 4 rows, as {@link #row1}'s: out += float(T)·(d·d_a) − float(M)·(dmin·d_a). */
    private static void finish(long c, int[] totals, int[] mins, float[] ds, int di, int blocks, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        IntVector h = IntVector.fromMemorySegment(I, mem, c + D, LE), hm = IntVector.fromMemorySegment(I, mem, c + DMIN, LE);   // row1's widening
        FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
        FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                .or(h.and(0x80000000)).reinterpretAsFloats();
        FloatVector n0 = hm.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                .or(hm.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
        FloatVector n1 = hm.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                .or(hm.and(0x80000000)).reinterpretAsFloats();
        float da;
        int p;
        da = ds[di];
        p = o;
        ((FloatVector) IntVector.fromArray(I, mins, 0).convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 0).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
        ((FloatVector) IntVector.fromArray(I, mins, 16).convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 16).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
        da = ds[di + 1 * blocks];
        p = o + 1 * stride;
        ((FloatVector) IntVector.fromArray(I, mins, 32).convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 32).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
        ((FloatVector) IntVector.fromArray(I, mins, 48).convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 48).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
        da = ds[di + 2 * blocks];
        p = o + 2 * stride;
        ((FloatVector) IntVector.fromArray(I, mins, 64).convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 64).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
        ((FloatVector) IntVector.fromArray(I, mins, 80).convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 80).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
        da = ds[di + 3 * blocks];
        p = o + 3 * stride;
        ((FloatVector) IntVector.fromArray(I, mins, 96).convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 96).convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
        ((FloatVector) IntVector.fromArray(I, mins, 112).convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) IntVector.fromArray(I, totals, 112).convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
    }

    /** Two activation rows (i, i + 1) times groups [g0, g1): {@link #row1}'s outputs, each column of codes decoded once. */
    private static void rows2(long base, int g0, int g1, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        for (int g = g0; g < g1; g++) rows2(base + (long) (g - g0) * blocks * BLOCK_BYTES, blocks, x, i, out, o + g * GROUP, stride);
    }

    /**
     * Two activation rows at once: {@link #row1}'s integer totals and its two F32 multiply-adds per super-block, in the same
     * order (so each row's outputs are its GEMV's bits); the running sums stay in out between super-blocks. It takes the
     * 2 or 3 rows left after {@link #rows4}.
     */
    private static void rows2(long group, int blocks, Q8Rows x, int i, float[] out, int o, int stride) {
        MemorySegment mem = QuantVectors.ALL_NATIVE;
        short[] a = x.codes();
        int[] sums = x.sums();
        int cols = blocks * QK, sr = 8 * blocks;
        for (int r = 0; r < 2; r++) java.util.Arrays.fill(out, o + r * stride, o + r * stride + GROUP, 0f);
        for (int b = 0; b < blocks; b++) {
            long c = group + (long) b * BLOCK_BYTES;
            int k = i * cols + b * QK, s8 = i * sr + 8 * b;
            IntVector z = IntVector.zero(I), t00 = z, t01 = z, t10 = z, t11 = z, m00 = z, m01 = z, m10 = z, m11 = z;
            for (int ch = 0; ch < 4; ch++) {
                ShortVector zs = ShortVector.zero(S), l0 = zs, h0 = zs, l1 = zs, h1 = zs;
                long cc = c + (long) CHUNK * ch;
                int kc = k + 64 * ch;
                for (int l = 0; l < 16; l++) {                         // columns 2l (sub-block 2ch) and 2l + 1 (2ch + 1)
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B, mem, cc + 64 * l + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vl = v.and((short) 15), vh = v.lanewise(VectorOperators.LSHR, 4), wl = w.and((short) 15), wh = w.lanewise(VectorOperators.LSHR, 4);
                    l0 = l0.add(vl.mul(a[kc + l])).add(vh.mul(a[kc + l + 16]));
                    h0 = h0.add(wl.mul(a[kc + l + 32])).add(wh.mul(a[kc + l + 48]));
                    l1 = l1.add(vl.mul(a[kc + cols + l])).add(vh.mul(a[kc + cols + l + 16]));
                    h1 = h1.add(wl.mul(a[kc + cols + l + 32])).add(wh.mul(a[kc + cols + l + 48]));
                }
                int j = 2 * ch;                                               // row1's scales and mins of sub-blocks j, j + 1
                ShortVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)), p1 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 32, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)), p2 = ((ShortVector) ByteVector.fromMemorySegment(B, mem, cc + PLANES + 64, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0));
                ShortVector scl = p0.and((short) 63), sch = p1.and((short) 63), ml = p2.and((short) 63);
                ShortVector mh = p0.lanewise(VectorOperators.LSHR, 6).or(p1.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 2))
                        .or(p2.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                IntVector sl0 = (IntVector) scl.convertShape(VectorOperators.S2I, I, 0), sl1 = (IntVector) scl.convertShape(VectorOperators.S2I, I, 1);
                IntVector sh0 = (IntVector) sch.convertShape(VectorOperators.S2I, I, 0), sh1 = (IntVector) sch.convertShape(VectorOperators.S2I, I, 1);
                IntVector ml0 = (IntVector) ml.convertShape(VectorOperators.S2I, I, 0), ml1 = (IntVector) ml.convertShape(VectorOperators.S2I, I, 1);
                IntVector mh0 = (IntVector) mh.convertShape(VectorOperators.S2I, I, 0), mh1 = (IntVector) mh.convertShape(VectorOperators.S2I, I, 1);
                int al = sums[s8 + j], ah = sums[s8 + j + 1];
                l0 = l0.sub((short) (8 * al));
                h0 = h0.sub((short) (8 * ah));
                t00 = t00.add(((IntVector) l0.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h0.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t01 = t01.add(((IntVector) l0.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h0.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                m00 = m00.add(ml0.mul(al)).add(mh0.mul(ah));
                m01 = m01.add(ml1.mul(al)).add(mh1.mul(ah));
                al = sums[s8 + sr + j];
                ah = sums[s8 + sr + j + 1];
                l1 = l1.sub((short) (8 * al));
                h1 = h1.sub((short) (8 * ah));
                t10 = t10.add(((IntVector) l1.convertShape(VectorOperators.S2I, I, 0)).add(8 * al).mul(sl0)).add(((IntVector) h1.convertShape(VectorOperators.S2I, I, 0)).add(8 * ah).mul(sh0));
                t11 = t11.add(((IntVector) l1.convertShape(VectorOperators.S2I, I, 1)).add(8 * al).mul(sl1)).add(((IntVector) h1.convertShape(VectorOperators.S2I, I, 1)).add(8 * ah).mul(sh1));
                m10 = m10.add(ml0.mul(al)).add(mh0.mul(ah));
                m11 = m11.add(ml1.mul(al)).add(mh1.mul(ah));
            }
            IntVector h = IntVector.fromMemorySegment(I, mem, c + D, LE), hm = IntVector.fromMemorySegment(I, mem, c + DMIN, LE);   // row1's widening
            FloatVector d0 = h.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector d1 = h.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(h.and(0x80000000)).reinterpretAsFloats();
            FloatVector n0 = hm.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hm.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
            FloatVector n1 = hm.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000).reinterpretAsFloats().mul(F16_BIAS).reinterpretAsInts()
                    .or(hm.and(0x80000000)).reinterpretAsFloats();
            float[] ds = x.scales();
            float da = ds[i * blocks + b];
            int p = o;
            ((FloatVector) m00.convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) t00.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
            ((FloatVector) m01.convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) t01.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
            da = ds[(i + 1) * blocks + b];
            p += stride;
            ((FloatVector) m10.convert(VectorOperators.I2F, 0)).fma(n0.mul(-da), ((FloatVector) t10.convert(VectorOperators.I2F, 0)).fma(d0.mul(da), FloatVector.fromArray(F, out, p))).intoArray(out, p);
            ((FloatVector) m11.convert(VectorOperators.I2F, 0)).fma(n1.mul(-da), ((FloatVector) t11.convert(VectorOperators.I2F, 0)).fma(d1.mul(da), FloatVector.fromArray(F, out, p + 16))).intoArray(out, p + 16);
        }
    }
}
