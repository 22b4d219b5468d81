package org.jtune.models.lora;

import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * DoRA's row norms (Liu et al., "DoRA: Weight-Decomposed Low-Rank Adaptation", ICML 2024, as PEFT computes them): the
 * adapted projection's output row i is scaled by m_i / ‖W_i + s·(B·A)_i‖, the norm taken as a constant (PEFT detaches it:
 * the paper's section 4.3, so that no gradient flows through it). The norm is expanded so that W + s·B·A is never formed:
 * ‖W_i‖² (fixed: the base is frozen) + 2s·Σ_j B_ij (A·W_iᵀ)_j + s²·B_i (A·Aᵀ) B_iᵀ, with A·Wᵀ one product of r rows through
 * W in whatever format it is stored (an NF4 base is never dequantized after its row norms are taken once).
 */
final class DoraScale {
    private DoraScale() {}

    /** Rows of a base weight widened to F32 at a time: a QLoRA base is never dequantized whole (2 MiB at 2048 columns). */
    private static final int ROWS_PER_CHUNK = 256;

    /** ‖W_i‖² of every row of a base weight (out, in) in any dtype, in double. */
    static double[] rowNormsSquared(Tensor w) {
        int out = w.size(0), in = w.size(1);
        double[] sq = new double[out];
        for (int r0 = 0; r0 < out; r0 += ROWS_PER_CHUNK) {
            int n = Math.min(ROWS_PER_CHUNK, out - r0);
            float[] v = w.narrow(0, r0, n).to(DType.F32).contiguous().toFloatArray();
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int k = 0; k < in; k++) s += (double) v[i * in + k] * v[i * in + k];
                sq[r0 + i] = s;
            }
        }
        return sq;
    }

    /** 1 / ‖W_i + s·(B·A)_i‖ for every row, from the base's squared row norms and the pair's current A and B; (out) F32. */
    static Tensor inverseNorms(Tensor w, double[] wRowSq, Tensor a, Tensor b, float s) {
        int r = a.size(0), out = b.size(0);
        Tensor af = a.to(DType.F32);
        float[] aw = Ops.linear(af, w).contiguous().toFloatArray();                  // (r, out): A·Wᵀ
        float[] aa = Ops.matmul(af, af.t()).contiguous().toFloatArray();             // (r, r): A·Aᵀ
        float[] bv = b.to(DType.F32).contiguous().toFloatArray();                    // (out, r)
        float[] inv = new float[out];
        for (int i = 0; i < out; i++) {
            double cross = 0, quad = 0;
            for (int j = 0; j < r; j++) {
                double bij = bv[i * r + j];
                cross += bij * aw[j * out + i];
                double t = 0;
                for (int k = 0; k < r; k++) t += aa[j * r + k] * (double) bv[i * r + k];
                quad += bij * t;
            }
            double norm = Math.sqrt(Math.max(0, wRowSq[i] + 2 * s * cross + (double) s * s * quad));
            inv[i] = norm == 0 ? 0f : (float) (1 / norm);
        }
        return Tensor.of(inv, out);
    }
}
