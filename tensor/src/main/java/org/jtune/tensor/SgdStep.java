package org.jtune.tensor;

/**
 * The float scalars of one SGD step as torch.optim.SGD applies it (weight decay coupled: added to
 * the gradient), which {@link Backend#sgd} applies to every element:
 * <pre>
 *   d ← g + wd·p
 *   b ← d                      on the first step, else  b ← μ·b + (1 − dampening)·d
 *   d ← d + μ·b  (Nesterov)    or  d ← b
 *   p ← p − lr·d
 * </pre>
 * Without momentum (μ = 0) there is no buffer and d is used directly. F32 without fused
 * multiply-adds, in the order of {@link #apply}, so every backend gives the same bits.
 */
public record SgdStep(float lr, float weightDecay, float momentum, float dampeningComplement, boolean nesterov, boolean first) {
    /** One element: returns the new p; {@code buf[0]} holds the momentum buffer's element (ignored when buf is null). */
    public float apply(float p, float g, float[] buf) {
        float d = g + p * weightDecay;
        if (buf != null) {
            float b = first ? d : buf[0] * momentum + d * dampeningComplement;
            buf[0] = b;
            d = nesterov ? d + b * momentum : b;
        }
        return p - d * lr;
    }
}
