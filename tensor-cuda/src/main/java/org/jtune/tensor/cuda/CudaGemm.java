package org.jtune.tensor.cuda;

import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * Batched matrix products through cuBLAS: out (..., M, N) ← a (..., M, K) · b (..., K, N) (+ out), in
 * F32, BF16 or F16 operands with F32 output and F32 accumulation (cublasGemmStridedBatchedEx,
 * CUBLAS_COMPUTE_32F), one call for all batch dims. Row-major C = A·B is computed as the column-major
 * Cᵀ = Bᵀ·Aᵀ, so a row-major operand needs no transpose flag and a column-major (transposed) view gets
 * CUBLAS_OP_T: transposed weights and K/V views go in without a copy. An operand whose layout cuBLAS
 * cannot describe ({@link GemmOperand#of} null), or whose type differs from the other's, is densified
 * first (to F32 when the types differ). With {@link #mixedPrecision} on (autocast, as torch.autocast does
 * for bf16), an F32 operand meeting a 16-bit one is rounded to that type instead, so the product runs on
 * the tensor cores at the 16-bit rate (F32 accumulation still), and F32 × F32 products use TF32 tensor
 * cores; off by default, as the conformance suite expects F32 products.
 */
final class CudaGemm {
    private final CudaBackend be;
    private final Cublas cublas;
    volatile boolean mixedPrecision;

    CudaGemm(CudaBackend be, Cublas cublas) {
        this.be = be;
        this.cublas = cublas;
    }

    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        int r = out.rank();
        int m = out.size(r - 2), n = out.size(r - 1), k = a.size(a.rank() - 1);
        if (m == 0 || n == 0 || out.numel() == 0) return;
        if (k == 0) {
            if (!accumulate) be.fill(out, 0f);
            return;
        }
        if (!accumulate && m == 1 && rowTimesBf16Weight(a, b, out)) return;
        DType type = a.dtype() == b.dtype() && a.dtype() != DType.I32 ? a.dtype() : DType.F32;
        if (mixedPrecision && type == DType.F32) {
            if (a.dtype() == DType.BF16 || b.dtype() == DType.BF16) type = DType.BF16;
            else if (a.dtype() == DType.F16 || b.dtype() == DType.F16) type = DType.F16;
        }
        Tensor ad = operand(a, type), bd = operand(b, type);
        GemmOperand ga = GemmOperand.of(ad), gb = GemmOperand.of(bd);
        CudaTensors.Out o = outOperand(out, accumulate);
        GemmOperand gc = GemmOperand.of(o.buffer);
        long batch = gc.batch();
        if (ga.batch() != batch && ga.batchStride() != 0 || gb.batch() != batch && gb.batchStride() != 0) {
            throw new IllegalArgumentException("matmul batch dims disagree: " + java.util.Arrays.toString(a.shape()) + " · "
                    + java.util.Arrays.toString(b.shape()) + " → " + java.util.Arrays.toString(out.shape()));
        }
        if (batch > Integer.MAX_VALUE) throw new IllegalArgumentException("matmul batch too large for one cuBLAS call: " + batch);
        int abType = switch (type) {
            case BF16 -> Cublas.R_16BF;
            case F16 -> Cublas.R_16F;
            default -> Cublas.R_32F;
        };
        long pb = be.tensors.address(bd), pa = be.tensors.address(ad);
        // Under autocast, products that stay F32 (adapter factors, F32 weights) take TF32 tensor cores, as allow_tf32.
        int compute = mixedPrecision && type == DType.F32 ? Cublas.COMPUTE_32F_FAST_TF32 : Cublas.COMPUTE_32F;
        String name = be.context.profiler == null ? null
                : "cublas " + type.name().toLowerCase() + " " + (batch > 1 ? batch + "×" : "") + m + "×" + n + "×" + k;
        // Column-major: C'(n × m) = op(B')(n × k) · op(A')(k × m).
        be.context.queued(name, () -> cublas.gemm(gb.rowMajor() ? Cublas.OP_N : Cublas.OP_T, ga.rowMajor() ? Cublas.OP_N : Cublas.OP_T,
                n, m, k, pb, abType, gb.ld(), gb.batchStride(), pa, ga.ld(), ga.batchStride(),
                accumulate, o.ptr, gc.ld(), gc.batchStride(), (int) batch, compute));
        o.finish();
    }

    /**
     * Decode's product: one F32 row times the transpose of a contiguous BF16 weight (n × k, 16-byte aligned)
     * goes to our GEMV kernel ({@code gemv_bf16}: F32 arithmetic on the BF16 values, no cast of the row and
     * no cuBLAS call). False (nothing done) for any other shape or layout.
     */
    private boolean rowTimesBf16Weight(Tensor a, Tensor b, Tensor out) {
        if (b.dtype() != DType.BF16 || b.rank() != 2 || a.dtype() != DType.F32 || a.numel() != a.size(a.rank() - 1)) return false;
        int k = b.size(0), n = b.size(1);
        if (k % 8 != 0 || b.stride(0) != 1 || b.stride(1) != k || out.numel() != n) return false;
        long w = be.tensors.address(b);
        if (w % 16 != 0) return false;
        long x = be.tensors.denseF32(a);
        CudaTensors.Out o = be.tensors.out(out, DType.F32, false);
        be.context.launch(CudaKernels.GEMV_BF16, LaunchConfig.perWarp(n, LaunchConfig.QGEMV_WARPS), w, x, o.ptr, n, k);
        o.finish();
        return true;
    }

    Cublas cublas() {
        return cublas;
    }

    private Tensor operand(Tensor t, DType type) {
        if (t.dtype() == type && GemmOperand.of(t) != null) return t;
        return be.tensors.dense(t, type);
    }

    /** out itself when it is F32 row-major with a collapsible batch, else a dense temporary (holding out's values when accumulating). */
    private CudaTensors.Out outOperand(Tensor out, boolean accumulate) {
        GemmOperand g = GemmOperand.of(out);
        if (out.dtype() == DType.F32 && g != null && g.rowMajor() && (g.batch() == 1 || g.batchStride() != 0)) {
            return be.tensors.new Out(out, out, be.tensors.address(out));
        }
        return be.tensors.out(out, DType.F32, accumulate);
    }

    /** Times {@code reps} square n×n×n products of {@code type} straight through cuBLAS (no Ops, no checks): TFLOP/s. */
    double cublasTflops(int n, DType type, int reps) {
        Tensor a = be.tensors.temp(type, n, n), b = be.tensors.temp(type, n, n), c = be.tensors.temp(DType.F32, n, n);
        be.fill(a, 0.5f);
        be.fill(b, 0.25f);
        int t = type == DType.BF16 ? Cublas.R_16BF : type == DType.F16 ? Cublas.R_16F : Cublas.R_32F;
        long pa = be.tensors.address(a), pb = be.tensors.address(b), pc = be.tensors.address(c);
        for (int i = 0; i < 3; i++) cublas.gemm(Cublas.OP_N, Cublas.OP_N, n, n, n, pb, t, n, 0, pa, n, 0, false, pc, n, 0, 1);
        be.synchronize();
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) cublas.gemm(Cublas.OP_N, Cublas.OP_N, n, n, n, pb, t, n, 0, pa, n, 0, false, pc, n, 0, 1);
        be.synchronize();
        double s = (System.nanoTime() - t0) / 1e9;
        return 2.0 * n * n * (double) n * reps / s / 1e12;
    }
}
