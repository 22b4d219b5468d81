package org.jtune.tensor.cuda;

import static org.jtune.tensor.DType.F32;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;

/**
 * Attention of many query rows on the tensor cores (flash.cu) when the backend's mixed precision is on:
 * the forward writes out and lse without any score buffer; the backward computes Δ = dOut·out per row
 * (attention.cu's delta kernel), then dq (one block per 64 query rows) and dk, dv (one block per 64 key
 * rows, summing the query heads of its kv head in registers), each written whole: no zero-fill, no
 * atomics, the same bits from run to run. Q, K, V, dOut, P and dS enter the products as BF16 (as
 * PyTorch's flash attention under autocast); with mixed precision off, or a head dim other than
 * 64 or 128, the backend keeps the F32 paths ({@link CudaAttention} and attention.cu).
 */
final class CudaFlashAttention {
    private final CudaContext ctx;
    private final CudaTensors ts;
    private final CudaGemm gemm;

    CudaFlashAttention(CudaBackend be, CudaGemm gemm) {
        this.ctx = be.context;
        this.ts = be.tensors;
        this.gemm = gemm;
    }

    /** Whether the tensor-core kernels serve this call: mixed precision on, several query rows, head dim 64 or 128. */
    boolean serves(Tensor q, Tensor k) {
        int d = q.size(3);
        return gemm.mixedPrecision && CudaAttention.serves(q, k) && (d == 64 || d == 128) && q.size(2) <= 65535 && q.size(0) <= 65535;
    }

    private static boolean d64(Tensor q) {
        return q.size(3) == 64;
    }

    void forward(Tensor q, Tensor k, Tensor v, AttentionMask mask, Tensor out, Tensor lse, byte[] shape) {
        long qp = ts.denseF32Aligned(q), kp = ts.denseF32Aligned(k), vp = ts.denseF32Aligned(v);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        CudaTensors.Out o = ts.outAligned(out), l = ts.out(lse, F32, false);
        ctx.launch(d64(q) ? CudaKernels.FLASH_FWD_D64 : CudaKernels.FLASH_FWD_D128, LaunchConfig.flashQueries(q.size(0), q.size(1), q.size(2)),
                qp, kp, vp, sp, o.ptr, l.ptr, shape);
        o.finish();
        l.finish();
    }

    void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, Tensor dq, Tensor dk,
                  Tensor dv, byte[] shape) {
        long qp = ts.denseF32Aligned(q), kp = ts.denseF32Aligned(k), vp = ts.denseF32Aligned(v), op = ts.denseF32(out),
                lp = ts.denseF32(lse), gp = ts.denseF32Aligned(dOut);
        long sp = mask.segments() == null ? 0L : ts.denseI32(mask.segments());
        long rows = (long) q.size(0) * q.size(1) * q.size(2);
        Tensor delta = ts.temp(F32, (int) rows);
        long dl = ts.address(delta);
        ctx.launch(CudaKernels.ATTENTION_DELTA, LaunchConfig.perWarp(rows, LaunchConfig.ATT_WARPS), op, gp, dl, rows, q.size(3));
        CudaTensors.Out oq = ts.outAligned(dq);
        ctx.launch(d64(q) ? CudaKernels.FLASH_BWD_DQ_D64 : CudaKernels.FLASH_BWD_DQ_D128,
                LaunchConfig.flashQueries(q.size(0), q.size(1), q.size(2)), qp, kp, vp, sp, gp, lp, dl, oq.ptr, shape);
        oq.finish();
        CudaTensors.Out ok = ts.outAligned(dk), ov = ts.outAligned(dv);
        ctx.launch(d64(q) ? CudaKernels.FLASH_BWD_DKV_D64 : CudaKernels.FLASH_BWD_DKV_D128,
                LaunchConfig.flashKeys(k.size(0), k.size(1), k.size(2), q.size(3)), qp, kp, vp, sp, gp, lp, dl, ok.ptr, ov.ptr,
                shape);
        ok.finish();
        ov.finish();
    }
}
