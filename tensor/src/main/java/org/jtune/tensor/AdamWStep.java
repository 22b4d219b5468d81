package org.jtune.tensor;

/**
 * The float scalars of one AdamW step t ≥ 1 (Loshchilov &amp; Hutter, "Decoupled Weight Decay
 * Regularization"; the formulas of torch.optim.AdamW), which {@link Backend#adamw} applies to every
 * element in one pass:
 * <pre>
 *   p ← p·(1 − lr·wd)
 *   m ← m + (1 − β1)(g − m)
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 * The scalars are computed in double and rounded to float once; the kernels use F32 arithmetic
 * without fused multiply-adds, in exactly the order written in {@link #apply}, so every backend
 * and every split into parallel chunks gives the same bits.
 */
public record AdamWStep(float decay, float beta1Complement, float beta2, float beta2Complement, float bias2Sqrt, float eps,
                        float stepSize) {
    public static AdamWStep of(double lr, double weightDecay, double beta1, double beta2, double eps, long t) {
        double bias1 = 1 - Math.pow(beta1, t);
        double bias2 = 1 - Math.pow(beta2, t);
        return new AdamWStep((float) (1 - lr * weightDecay), (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                (float) Math.sqrt(bias2), (float) eps, (float) (lr / bias1));
    }

    /**
     * One element, the scalar definition the kernels match bit for bit: returns the new p and writes the
     * new m and v into {@code mv[0]} and {@code mv[1]} (which hold the old ones).
     */
    public float apply(float p, float g, float[] mv) {
        float m = mv[0] + (g - mv[0]) * beta1Complement;
        float v = mv[1] * beta2 + g * beta2Complement * g;
        float denom = (float) Math.sqrt(v) / bias2Sqrt + eps;
        mv[0] = m;
        mv[1] = v;
        return p * decay - m / denom * stepSize;
    }
}
