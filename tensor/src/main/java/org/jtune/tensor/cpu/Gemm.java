package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Batched F32 matrix multiply C (.., M, N) = A (.., M, K) · B (.., K, N) (+ C). Operands of any
 * strides; B may be F16/BF16. This first version copies both operands to row-major F32 and runs an
 * i-k-j loop with vector FMAs over N, split by rows across the pool. It is the baseline the packed,
 * register-tiled GEMM is measured against.
 */
final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Gemm() {}

    static void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        int r = out.rank();
        int m = out.size(-2), n = out.size(-1), k = a.size(-1);
        long batch = out.numel() / Math.max(1L, (long) m * n);
        if (out.numel() == 0) return;
        Tensor ac = a.to(DType.F32), bc = b.to(DType.F32); // contiguous row-major copies (batch expanded)
        float[] A = Elementwise.arr(ac), B = Elementwise.arr(bc), C = Elementwise.arr(out);
        if (!out.isContiguous()) throw new IllegalArgumentException("matmul: output must be contiguous, got " + out);
        long co = out.offset();
        int rows = (int) (batch * m);
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(1, n)), (r0, r1) -> {
            float[] acc = new float[n];
            for (int row = r0; row < r1; row++) {
                int bi = row / m, i = row % m;
                int aRow = (bi * m + i) * k, bBase = bi * k * n;
                int cRow = (int) co + row * n;
                if (accumulate) System.arraycopy(C, cRow, acc, 0, n);
                else java.util.Arrays.fill(acc, 0f);
                for (int p = 0; p < k; p++) {
                    float av = A[aRow + p];
                    int bRow = bBase + p * n;
                    int j = 0;
                    FloatVector va = FloatVector.broadcast(S, av);
                    for (int bound = S.loopBound(n); j < bound; j += S.length()) {
                        va.fma(FloatVector.fromArray(S, B, bRow + j), FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
                    }
                    for (; j < n; j++) acc[j] += av * B[bRow + j];
                }
                System.arraycopy(acc, 0, C, cRow, n);
            }
        });
    }
}
