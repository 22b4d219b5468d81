package org.jtune.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * The first CPU matmul of the tensor module (commit 7ce318f), kept as the baseline the packed GEMM
 * beat: both operands are copied to row-major F32, then an i-k-j loop runs vector FMAs along N into a
 * row accumulator, split by rows across the pool. out (.., M, N) must be contiguous heap F32 with the
 * operands' batch dims already broadcast. Its figure is printed by `jtune bench gemm` as baseline_gflops.
 */
final class BaselineGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private BaselineGemm() {}

    static void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        int m = out.size(-2), n = out.size(-1), k = a.size(-1);
        long batch = out.numel() / Math.max(1L, (long) m * n);
        if (out.numel() == 0) return;
        Tensor ac = a.to(DType.F32), bc = b.to(DType.F32); // contiguous row-major copies (batch expanded)
        float[] A = ac.storage().floatArray(), B = bc.storage().floatArray(), C = out.storage().floatArray();
        if (!out.isContiguous() || C == null) throw new IllegalArgumentException("baseline matmul: output must be contiguous heap F32, got " + out);
        int ao = (int) ac.offset(), bo = (int) bc.offset(), co = (int) out.offset();
        int rows = (int) (batch * m);
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(1, n)), (r0, r1) -> {
            float[] acc = new float[n];
            for (int row = r0; row < r1; row++) {
                int bi = row / m, i = row % m;
                int aRow = ao + (bi * m + i) * k, bBase = bo + bi * k * n;
                int cRow = co + row * n;
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
