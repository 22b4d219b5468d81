package org.jtune.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh on float vectors from IEEE add, multiply, FMA and exact bit operations only. The Vector API's own
 * EXP and TANH give different bits when the JIT has compiled a loop (Intel SVML) and while it has not (a scalar
 * fallback), so results would depend on warm-up; these give the same bits at every stage and on every run, which
 * makes training bit-reproducible. {@link #exp(float)} is the same computation on one float, bit for bit.
 */
public final class VectorMath {
    /*
     * e^x = 2^(n/16) · e^r with n = round(16·x·log2 e) and r = x − n·ln2/16, |r| ≤ ln2/32 ≈ 0.0217 (Cody–Waite: n·HI
     * is exact, HI having 12 significant bits and |n| < 2^12, and so is x − n·HI; LO carries the rest of ln2/16).
     * n = 16k + j: 2^(n/16) = 2^k · T[j], T[j] = 2^(j/16) rounded to float, a table of 16 that one permute reads.
     * e^r − 1 = q = r + r²·(1/2 + r/6) (the dropped r⁴/24 ≤ 9.2e−9), and the result is T' + T'·q in one FMA, T' = T[j]·2^k
     * built by adding k + bias to the exponent field of T[j]'s mantissa bits. The rounding to n is an add of
     * 1.5·2^23 + 16·bias, which leaves n + 16·bias in t's low mantissa bits: its low 4 bits are j and the rest, shifted
     * into place, the exponent field k + bias. About 15 vector operations, 7 of them multiplies or FMAs (the Cephes
     * polynomial this replaced took about 19, 12 of them; 4.4 → 3.3 ns per 16 floats with the store, in cache).
     */
    private static final float LOG2E_16 = (float) (16 / StrictMath.log(2));
    private static final float LN2_16_HI = Float.intBitsToFloat(Float.floatToRawIntBits((float) (StrictMath.log(2) / 16)) & 0xFFFFF000);
    private static final float LN2_16_LO = (float) (StrictMath.log(2) / 16 - LN2_16_HI);
    /** T[j]'s mantissa bits (exponent field 0), j = 0..15. */
    private static final int[] TABLE = new int[16];
    static {
        for (int j = 0; j < 16; j++) TABLE[j] = Float.floatToRawIntBits((float) StrictMath.pow(2, j / 16.0)) - 0x3F800000;
    }
    /**
     * exp: bias 126 and a final doubling, so that k = 128 (results up to Float.MAX_VALUE) still has an exponent field
     * (254) and overflows to +Inf only in the doubling. x ≤ LOW gives n = −2016, exponent field 0 and j = 0: T' = +0.
     */
    private static final float ROUND_126 = 12582912f + 16 * 126, LOW = (float) (-126 * StrictMath.log(2)), HIGH = 89f;
    /** expOfNonPositive: bias 127 and no doubling (k ≤ 0 there); x ≤ LOW_127 gives T' = +0. */
    private static final float ROUND_127 = 12582912f + 16 * 127, LOW_127 = (float) (-127 * StrictMath.log(2));

    private VectorMath() {}

    /**
     * e^x within 1.22 ulp (a bound from the roundings; {@code VectorMathExpTest} checks a dense sweep) for results of
     * at least 2^−125 (x ≥ −86.64); below, a value within 2^−125 of e^x, +0 for x ≤ −87.34. Results past
     * Float.MAX_VALUE (x &gt; 88.7228) are +Inf; NaN stays NaN. The clamps are compare-and-blend, not max/min, so a NaN
     * passes through them (and through the arithmetic: its q is NaN) with no fix-up.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector z = x.blend(LOW, x.lt(LOW));
        return scaledExp(z.blend(HIGH, z.compare(VectorOperators.GT, HIGH)), ROUND_126).mul(2f);
    }

    /**
     * e^x for x ≤ 0 or NaN (x − max x in softmax, log-sum-exp and attention): the upper clamp and the doubling of
     * {@link #exp} are left out. The same bits as exp where e^x ≥ 2^−125 (both scale exactly there); within 1.22 ulp
     * of e^x for results of at least 2^−126 (x ≥ −87.34), below that within 2^−126 of it, +0 for x ≤ −88.03. Right
     * for positive x up to 88.70; past that the result is garbage, not +Inf.
     */
    public static FloatVector expOfNonPositive(FloatVector x) {
        return scaledExp(x.blend(LOW_127, x.lt(LOW_127)), ROUND_127);
    }

    /** T' + T'·q for z in range; round is 1.5·2^23 + 16·bias. */
    private static FloatVector scaledExp(FloatVector z, float round) {
        FloatVector t = z.fma(z.broadcast(LOG2E_16), z.broadcast(round));
        FloatVector n = t.sub(round);
        FloatVector r = n.fma(n.broadcast(-LN2_16_HI), z);
        r = n.fma(n.broadcast(-LN2_16_LO), r);
        FloatVector q = r.mul(r).fma(r.fma(r.broadcast(1f / 6), r.broadcast(0.5f)), r);
        IntVector bits = (IntVector) t.reinterpretAsInts();
        IntVector field = bits.lanewise(VectorOperators.LSHL, 19).and(0xFF800000);
        IntVector j = bits.and(15), entry;                                  // TABLE[j]: written out here, not called,
        if (j.species() != TABLE_SHAPE) entry = tableLaneByLane(j);         // so that C2 never leaves it out of a big
        else if (TABLE_SHAPE.length() >= 16) entry = j.selectFrom(TABLE_0); // loop (NodeCountInliningCutoff) and boxes
        else if (TABLE_SHAPE.length() == 8) entry = j.selectFrom(TABLE_0, TABLE_1);    // every vector
        else entry = j.selectFrom(TABLE_0, TABLE_1).blend(j.selectFrom(TABLE_2, TABLE_3), j.compare(VectorOperators.GE, 8));
        FloatVector scale = entry.add(field).reinterpretAsFloats();
        return scale.fma(q, scale);
    }

    /** TABLE[j] lane by lane, for vectors of other shapes than the table's (not used by the kernels; slow). */
    private static IntVector tableLaneByLane(IntVector j) {
        int[] lanes = j.toArray();
        for (int i = 0; i < lanes.length; i++) lanes[i] = TABLE[lanes[i]];
        return IntVector.fromArray(j.species(), lanes, 0);
    }

    private static final VectorSpecies<Float> PREFERRED = FloatVector.SPECIES_PREFERRED;
    /** The shape of the table vectors: the preferred one when it has at least 4 lanes (every SIMD unit the Vector API compiles for). */
    private static final VectorSpecies<Integer> TABLE_SHAPE = IntVector.SPECIES_PREFERRED.length() >= 4 ? IntVector.SPECIES_PREFERRED : null;
    /** TABLE in vectors of that shape, lane i of part p holding entry (p·lanes + i) mod 16: part 0 alone when it has ≥ 16 lanes. */
    private static final IntVector TABLE_0 = tablePart(0), TABLE_1 = tablePart(1), TABLE_2 = tablePart(2), TABLE_3 = tablePart(3);

    private static IntVector tablePart(int part) {
        if (TABLE_SHAPE == null) return null;
        int[] lanes = new int[TABLE_SHAPE.length()];
        for (int i = 0; i < lanes.length; i++) lanes[i] = TABLE[(part * lanes.length + i) % 16];
        return IntVector.fromArray(TABLE_SHAPE, lanes, 0);
    }

    /** {@link #exp(FloatVector)} of one float, bit for bit. */
    public static float exp(float x) {
        float z = x < LOW ? LOW : x;
        return scaledExp(z > HIGH ? HIGH : z, ROUND_126) * 2f;
    }

    /** {@link #expOfNonPositive(FloatVector)} of one float, bit for bit. */
    public static float expOfNonPositive(float x) {
        return scaledExp(x < LOW_127 ? LOW_127 : x, ROUND_127);
    }

    private static float scaledExp(float z, float round) {
        float t = Math.fma(z, LOG2E_16, round);
        float n = t - round;
        float r = Math.fma(n, -LN2_16_LO, Math.fma(n, -LN2_16_HI, z));
        float q = Math.fma(r * r, Math.fma(r, 1f / 6, 0.5f), r);
        int bits = Float.floatToRawIntBits(t);
        float scale = Float.intBitsToFloat(TABLE[bits & 15] + ((bits << 19) & 0xFF800000));
        return Math.fma(scale, q, scale);
    }

    /**
     * tanh x: an odd polynomial for |x| &lt; 0.625 (Cephes tanhf), else 1 − 2/(e^{2|x|} + 1) with the sign
     * of x.
     */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.broadcast(-5.70498872745e-3f);
        p = p.fma(x2, x2.broadcast(2.06390887954e-2f));
        p = p.fma(x2, x2.broadcast(-5.37397155531e-2f));
        p = p.fma(x2, x2.broadcast(1.33314422036e-1f));
        p = p.fma(x2, x2.broadcast(-3.33332819422e-1f));
        FloatVector small = p.mul(x2).mul(x).add(x);
        FloatVector e = exp(a.mul(2f));
        FloatVector large = x.broadcast(1f).sub(x.broadcast(2f).div(e.add(1f)));
        large = large.blend(large.neg(), x.lt(0f));
        return large.blend(small, a.lt(0.625f));
    }

    /** The logistic function 1/(1 + e^−x). */
    public static FloatVector sigmoid(FloatVector x) {
        return x.broadcast(1f).div(exp(x.neg()).add(1f));
    }

    /**
     * The sum of the lanes, always in the same order (lane 0, 1, 2, ...). reduceLanes(ADD) may add
     * in another order once compiled than before, which changes the last bits from run to run.
     */
    public static float sum(FloatVector v) {
        // lane(i), not toArray(): toArray allocates a float[] per call that C2 does not always remove (a QLoRA
        // step of the 1.1B shape allocated ~0.8 GB/s here, mostly from this call in BlockMatmul.tile4xM, and the
        // young collections that garbage caused promoted the step pool's loans before they could come back)
        if (v.length() == 16) {
            return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7) + v.lane(8)
                    + v.lane(9) + v.lane(10) + v.lane(11) + v.lane(12) + v.lane(13) + v.lane(14) + v.lane(15);
        }
        if (v.length() == 8) return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /**
     * Σ of v's lanes by whole-vector adds of v and v rotated by half its lanes, then a quarter, ..., one lane: a fixed
     * tree (lane 0 of the result), the same bits compiled or not (rotations and lanewise adds are exact operations), where
     * {@link #sum} adds lane by lane: log2(lanes) dependent adds instead of lanes − 1 and no lane extractions. For vectors
     * of the preferred species (the CPU kernels'); others are summed by {@link #sum}.
     */
    public static float treeSum(FloatVector v) {
        if (v.species() != PREFERRED || PREFERRED.length() > 16) return sum(v);
        int n = PREFERRED.length();
        if (n >= 16) v = v.add(v.rearrange(ROTATE_8));
        if (n >= 8) v = v.add(v.rearrange(ROTATE_4));
        if (n >= 4) v = v.add(v.rearrange(ROTATE_2));
        if (n >= 2) v = v.add(v.rearrange(ROTATE_1));
        return v.lane(0);
    }

    private static final VectorShuffle<Float> ROTATE_8 = rotation(8), ROTATE_4 = rotation(4), ROTATE_2 = rotation(2),
            ROTATE_1 = rotation(1);

    /** Lane i ← lane (i + by) mod the preferred length (the identity when by is not below it). */
    private static VectorShuffle<Float> rotation(int by) {
        int n = PREFERRED.length();
        return VectorShuffle.fromOp(PREFERRED, i -> by < n ? (i + by) % n : i);
    }
}
