package org.jtune.bench;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.cpu.CpuBackend;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The bench compares like with like: the OpenBLAS peer, our GEMM and the baseline compute the same
 * product for both B layouts and the GEMV path, and result lines print as parseable JSON.
 */
class GemmPeerTest {
    @Test
    void peerOursAndBaselineAgree() {
        Rng rng = new Rng(1);
        for (int[] s : new int[][] {{33, 70, 45, 0}, {33, 70, 45, 1}, {1, 70, 45, 1}}) {
            int m = s[0], k = s[1], n = s[2];
            boolean weight = s[3] == 1;
            Tensor a = Tensor.uniform(rng, -1f, 1f, m, k);
            Tensor stored = weight ? Tensor.uniform(rng, -1f, 1f, n, k) : Tensor.uniform(rng, -1f, 1f, k, n);
            Tensor b = weight ? stored.t() : stored;
            Tensor ours = Tensor.zeros(m, n), base = Tensor.zeros(m, n);
            CpuBackend.INSTANCE.matmul(a, b, ours, false);
            BaselineGemm.matmul(a, b.contiguous(), base, false);
            try (OpenBlasPeer peer = new OpenBlasPeer(a.storage().floatArray(), stored.storage().floatArray(), m, k, n, weight)) {
                peer.run();
                float[] p = peer.result(), o = ours.toFloatArray(), q = base.toFloatArray();
                for (int i = 0; i < p.length; i++) {
                    assertEquals(p[i], o[i], 1e-4, "ours vs openblas at " + i);
                    assertEquals(p[i], q[i], 1e-4, "baseline vs openblas at " + i);
                }
            }
        }
    }

    @Test
    void resultLinesAreJson() {
        String line = new ResultLine().put("bench", "gemm").put("m", 512).put("gflops", 123.456789)
                .put("ratio", Double.NaN).put("note", "a \"q\"").toJson();
        assertEquals("{\"bench\":\"gemm\",\"m\":512,\"gflops\":123.5,\"ratio\":null,\"note\":\"a \\\"q\\\"\"}", line);
    }
}
