package org.jtune.quant.nf4;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * NF4 as a {@link BlockCodec} of the block-quantized weight seam (docs/QUANT.md), for one matrix: a stored
 * row is the row's cols/2 bytes of packed codes, exactly bitsandbytes' flat layout (so a checkpoint's
 * codes are used in place), and the absmax of the blocks — which in bitsandbytes run on across row ends
 * and are double-quantized in groups of 256 across rows — live in this codec instance ({@link Nf4Scales}).
 * A codec is therefore bound to its tensor: the row index is rowOff / rowBytes (the tensor's storage
 * begins at its row 0, as {@link #tensor} makes it), and {@link #encodeRow} is refused (quantize a whole
 * matrix with {@link Nf4Tensor#quantize}). Immutable, safe to share between threads.
 *
 * <p>{@link #blockSize()} is 2 (a byte of two codes), so any even cols and any even chunk start work.
 * {@link #dequantize} is level(code)·absmax in float32, the same bits as {@link Nf4Tensor#dequantize};
 * with 16 float lanes (AVX-512) it runs in registers: 8 bytes widened to 16 int lanes duplicated pairwise,
 * shifted by 4/0 and masked, used as a permutation of the 16 levels held in one vector. With 8 lanes (AVX2) the same
 * steps take 4 bytes to 8 codes, and the levels are two vectors that a two-source lane selection indexes.
 */
public final class Nf4Codec implements BlockCodec {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final boolean VECTOR = L == 16 && !Boolean.getBoolean("jtune.quant.scalar");
    private static final boolean VECTOR8 = L == 8 && !Boolean.getBoolean("jtune.quant.scalar");
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final float[] LEVELS = NormalFloat4.levels();
    private static final ThreadLocal<float[]> CHUNK = ThreadLocal.withInitial(() -> new float[512]);

    private final int blockSize;
    private final Nf4Scales scales;
    private final long elements;

    public Nf4Codec(int blockSize, Nf4Scales scales, long elements) {
        this.blockSize = blockSize;
        this.scales = scales;
        this.elements = elements;
    }

    /** The matrix as a {@link org.jtune.tensor.DType#BLOCK} tensor over its codes (no copy). */
    public static Tensor tensor(Nf4Tensor t) {
        if (t.cols() % 2 != 0) throw new IllegalArgumentException("NF4 " + t.rows() + "×" + t.cols() + ": the seam needs an even number of columns");
        return Tensor.blockQuantized(new Nf4Codec(t.blockSize(), t.scales(), t.size()), t.codes(), t.rows(), t.cols());
    }

    /** The NF4 matrix behind a BLOCK tensor made by {@link #tensor}, or null when it holds another format. */
    public static Nf4Tensor of(Tensor t) {
        if (!(t.blockCodec() instanceof Nf4Codec c) || t.offset() != 0 || t.rank() != 2 || t.stride(1) != 1) return null;
        return new Nf4Tensor(t.size(0), t.size(1), c.blockSize, t.storage().segment(), c.scales);
    }

    public Nf4Scales scales() {
        return scales;
    }

    /** Elements per NF4 block (64 unless a checkpoint says otherwise); not {@link #blockSize()}. */
    public int nf4BlockSize() {
        return blockSize;
    }

    @Override
    public String name() {
        return "nf4";
    }

    @Override
    public int blockSize() {
        return 2;
    }

    @Override
    public long rowBytes(int cols) {
        return cols / 2;
    }

    @Override
    public void encodeRow(float[] src, int srcOff, int cols, MemorySegment dst, long dstOff) {
        throw new UnsupportedOperationException("NF4 blocks and double-quantized absmax span rows: quantize a whole matrix with Nf4Tensor.quantize");
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, int cols, int from, int n, float[] dst, int dstOff) {
        long flat = rowOff / (cols / 2) * cols + from;
        dequantizeFlat(w, flat, n, dst, dstOff);
    }

    @Override
    public float dot(MemorySegment w, long rowOff, int cols, float[] x, int xOff) {
        float[] buf = CHUNK.get();
        float acc = 0f;
        for (int k0 = 0; k0 < cols; k0 += buf.length) {
            int kc = Math.min(buf.length, cols - k0);
            dequantize(w, rowOff, cols, k0, kc, buf, 0);
            FloatVector s = FloatVector.zero(F);
            int k = 0;
            for (; k + L <= kc; k += L) s = FloatVector.fromArray(F, buf, k).fma(FloatVector.fromArray(F, x, xOff + k0 + k), s);
            float t = VectorMath.sum(s);
            for (; k < kc; k++) t += buf[k] * x[xOff + k0 + k];
            acc += t;
        }
        return acc;
    }

    /** dst[dstOff + k] = element (flat + k) of the matrix, flat even. */
    void dequantizeFlat(MemorySegment codes, long flat, int n, float[] dst, int dstOff) {
        long i = flat, end = flat + n;
        int o = dstOff;
        while (i < end) {
            int b = (int) (i / blockSize);
            float am = scales.absmax(b);
            long stop = Math.min(end, (long) (b + 1) * blockSize);
            if (VECTOR && (i & 1) == 0) {
                FloatVector levels = FloatVector.fromArray(F, LEVELS, 0);
                FloatVector a = FloatVector.broadcast(F, am);
                // 16 bytes are read for 8: stay 8 bytes short of the segment's end
                long vecEnd = Math.min(stop, 2 * (codes.byteSize() - 8));
                for (; i + L <= vecEnd; i += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B, codes, i >>> 1, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2I, I, 0);
                    IntVector q = v.rearrange(PAIRS).lanewise(VectorOperators.ASHR, SHIFTS).and(0x0F);
                    levels.rearrange(q.toShuffle().cast(F)).mul(a).intoArray(dst, o);
                    o += L;
                }
            }
            if (VECTOR8 && (i & 1) == 0) {
                FloatVector low = FloatVector.fromArray(F8, LEVELS, 0), high = FloatVector.fromArray(F8, LEVELS, 8);
                FloatVector a = FloatVector.broadcast(F8, am);
                // 8 bytes are read for 4: stay 4 bytes short of the segment's end
                long vecEnd = Math.min(stop, 2 * (codes.byteSize() - 4));
                for (; i + 8 <= vecEnd; i += 8) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(B8, codes, i >>> 1, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2I, I8, 0);
                    IntVector q = v.rearrange(PAIRS8).lanewise(VectorOperators.ASHR, SHIFTS8).and(0x0F);
                    ((FloatVector) q.convert(VectorOperators.I2F, 0)).selectFrom(low, high).mul(a).intoArray(dst, o);
                    o += 8;
                }
            }
            for (; i < stop; i++) dst[o++] = LEVELS[NormalFloat4.code(codes.get(ValueLayout.JAVA_BYTE, i >>> 1), i)] * am;
        }
    }

    private static final VectorShuffle<Integer> PAIRS = VectorShuffle.fromOp(I, k -> k / 2);
    private static final IntVector SHIFTS = IntVector.fromArray(I, new int[] {4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0}, 0);
    private static final VectorShuffle<Integer> PAIRS8 = VectorShuffle.fromOp(I8, k -> k / 2);
    private static final IntVector SHIFTS8 = IntVector.fromArray(I8, new int[] {4, 0, 4, 0, 4, 0, 4, 0}, 0);
}
