package org.jtune.quant;

/**
 * The two roundings ggml's reference quantizers use, reproduced bit for bit in F32 arithmetic (Java
 * never contracts a*b+c into an FMA, which is what a C compiler targeting baseline x86-64 does too).
 */
final class GgmlRounding {
    private GgmlRounding() {}

    /**
     * ggml's {@code nearest_int}: adds 1.5·2^23 so the float unit rounds to an integer (ties to even),
     * then reads the integer back from the mantissa bits. Valid for |f| ≤ 4194303, as ggml asserts.
     */
    static int nearestInt(float f) {
        float v = f + 12582912f;
        return (Float.floatToRawIntBits(v) & 0x007fffff) - 0x00400000;
    }

    /** C's {@code roundf}: to the nearest integer, ties away from zero (Math.round rounds ties up). */
    static float roundf(float x) {
        float a = Math.abs(x);
        if (!(a < 0x1p23f)) return x;              // already an integer, or NaN/Inf
        float r = (float) Math.floor(a);
        if (a - r >= 0.5f) r += 1f;                 // a - r is exact below 2^23
        return Math.copySign(r, x);
    }
}
