package org.jtune.tensor.cuda;

import static org.jtune.tensor.cuda.KernelSpec.Param.F32;
import static org.jtune.tensor.cuda.KernelSpec.Param.I32;
import static org.jtune.tensor.cuda.KernelSpec.Param.I64;
import static org.jtune.tensor.cuda.KernelSpec.Param.PTR;
import static org.jtune.tensor.cuda.KernelSpec.Param.STRUCT;

import java.util.List;

/**
 * Every kernel the CUDA backend launches, with its parameter kinds in the order of the CUDA C signature
 * in {@code src/main/cuda}. {@link #ALL} is what the signature test checks against the PTX of each
 * architecture and what {@link CudaContext} loads.
 */
public final class CudaKernels {
    private CudaKernels() {}

    // strided.cu
    public static final KernelSpec COPY_STRIDED = KernelSpec.of("strided", "copy_strided", PTR, I32, I64, PTR, I32, I64, I64, STRUCT);
    public static final KernelSpec FILL_STRIDED = KernelSpec.of("strided", "fill_strided", PTR, I32, I64, I64, F32, STRUCT);
    // elementwise.cu
    public static final KernelSpec UNARY = KernelSpec.of("elementwise", "unary_f32", PTR, PTR, I64, I32);
    public static final KernelSpec UNARY_BACKWARD = KernelSpec.of("elementwise", "unary_backward_f32", PTR, PTR, PTR, I64, I32);
    public static final KernelSpec AFFINE = KernelSpec.of("elementwise", "affine_f32", PTR, PTR, I64, F32, F32);
    public static final KernelSpec POW = KernelSpec.of("elementwise", "pow_f32", PTR, PTR, I64, F32);
    public static final KernelSpec POW_BACKWARD = KernelSpec.of("elementwise", "pow_backward_f32", PTR, PTR, PTR, I64, F32);
    public static final KernelSpec CLAMP = KernelSpec.of("elementwise", "clamp_f32", PTR, PTR, I64, F32, F32);
    public static final KernelSpec BINARY = KernelSpec.of("elementwise", "binary_f32", PTR, PTR, PTR, I64, I32);
    public static final KernelSpec WHERE = KernelSpec.of("elementwise", "where_f32", PTR, PTR, PTR, PTR, I64);
    public static final KernelSpec SWIGLU = KernelSpec.of("elementwise", "swiglu_f32", PTR, PTR, PTR, I64);
    public static final KernelSpec SWIGLU_BACKWARD = KernelSpec.of("elementwise", "swiglu_backward_f32", PTR, PTR, PTR, PTR, PTR, I64);
    // rows.cu
    public static final KernelSpec RMSNORM = KernelSpec.of("rows", "rmsnorm_f32", PTR, PTR, PTR, PTR, I32, F32);
    public static final KernelSpec RMSNORM_DX = KernelSpec.of("rows", "rmsnorm_backward_dx_f32", PTR, PTR, PTR, PTR, PTR, I32);
    public static final KernelSpec RMSNORM_DW = KernelSpec.of("rows", "rmsnorm_backward_dw_f32", PTR, PTR, PTR, PTR, I32, I32);
    public static final KernelSpec LAYERNORM = KernelSpec.of("rows", "layernorm_f32", PTR, PTR, PTR, PTR, I32, F32);
    public static final KernelSpec SOFTMAX = KernelSpec.of("rows", "softmax_f32", PTR, PTR, I32, I32);
    public static final KernelSpec SOFTMAX_BACKWARD = KernelSpec.of("rows", "softmax_backward_f32", PTR, PTR, PTR, I32, I32);
    public static final KernelSpec REDUCE_ROWS = KernelSpec.of("rows", "reduce_rows_f32", PTR, PTR, I32, I32, I32);
    public static final KernelSpec ARGMAX_ROWS = KernelSpec.of("rows", "argmax_rows_f32", PTR, PTR, I32, I32);
    public static final KernelSpec SUM_SQUARES = KernelSpec.of("rows", "sum_squares_partial_f32", PTR, PTR, I64, I32);
    // loss.cu
    public static final KernelSpec CROSS_ENTROPY = KernelSpec.of("loss", "cross_entropy_f32", PTR, PTR, I32, PTR, PTR, I32, PTR);
    public static final KernelSpec CROSS_ENTROPY_BACKWARD =
            KernelSpec.of("loss", "cross_entropy_backward_f32", PTR, PTR, I32, PTR, F32, PTR, I32, PTR);
    public static final KernelSpec CROSS_ENTROPY_WITH_GRAD =
            KernelSpec.of("loss", "cross_entropy_with_grad_f32", PTR, PTR, I32, F32, PTR, PTR, I32, PTR);
    // indexing.cu
    public static final KernelSpec EMBEDDING = KernelSpec.of("indexing", "embedding_rows", PTR, I32, PTR, PTR, I32, I32, PTR);
    public static final KernelSpec EMBEDDING_BACKWARD = KernelSpec.of("indexing", "embedding_backward_f32", PTR, PTR, PTR, I32, I32, I32, PTR);
    public static final KernelSpec ROPE = KernelSpec.of("indexing", "rope_f32", PTR, PTR, PTR, PTR, I64, I32, I32, I32);
    // optim.cu
    public static final KernelSpec ADAMW = KernelSpec.of("optim", "adamw_f32", PTR, PTR, PTR, PTR, I64, F32, F32, F32, F32, F32, F32, F32);
    public static final KernelSpec SGD = KernelSpec.of("optim", "sgd_f32", PTR, PTR, PTR, I64, F32, F32, F32, F32, I32, I32);
    // attention.cu
    public static final KernelSpec ATTENTION_FWD = KernelSpec.of("attention", "attention_fwd_f32", PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    public static final KernelSpec ATTENTION_DELTA = KernelSpec.of("attention", "attention_delta_f32", PTR, PTR, PTR, I64, I32);
    public static final KernelSpec ATTENTION_BWD_DQ =
            KernelSpec.of("attention", "attention_bwd_dq_f32", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    public static final KernelSpec ATTENTION_BWD_DKV =
            KernelSpec.of("attention", "attention_bwd_dkv_f32", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    public static final KernelSpec ATTENTION_PROBS = KernelSpec.of("attention", "attention_probs_f32", PTR, PTR, PTR, STRUCT, I32, I32, I32);
    public static final KernelSpec ATTENTION_SCORE_GRADS =
            KernelSpec.of("attention", "attention_score_grads_f32", PTR, PTR, PTR, PTR, PTR, STRUCT, I32, I32, I32);
    // flash.cu (tensor cores, BF16 products; one entry per head dim, 64 and 128)
    public static final KernelSpec FLASH_FWD_D64 = flashFwd(64), FLASH_FWD_D128 = flashFwd(128);
    public static final KernelSpec FLASH_BWD_DQ_D64 = flashDq(64), FLASH_BWD_DQ_D128 = flashDq(128);
    public static final KernelSpec FLASH_BWD_DKV_D64 = flashDkv(64), FLASH_BWD_DKV_D128 = flashDkv(128);

    private static KernelSpec flashFwd(int d) {
        return KernelSpec.of("flash", "flash_fwd_bf16_d" + d, PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    }

    private static KernelSpec flashDq(int d) {
        return KernelSpec.of("flash", "flash_bwd_dq_bf16_d" + d, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    }

    private static KernelSpec flashDkv(int d) {
        return KernelSpec.of("flash", "flash_bwd_dkv_bf16_d" + d, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, STRUCT);
    }
    // quant.cu
    public static final KernelSpec GEMV_Q8_0 = KernelSpec.of("quant", "gemv_q8_0", PTR, PTR, PTR, I32, I32);
    public static final KernelSpec GEMV_Q4_0 = KernelSpec.of("quant", "gemv_q4_0", PTR, PTR, PTR, I32, I32);
    public static final KernelSpec GEMV_BF16 = KernelSpec.of("quant", "gemv_bf16", PTR, PTR, PTR, I32, I32);

    public static final List<KernelSpec> ALL = List.of(COPY_STRIDED, FILL_STRIDED, UNARY, UNARY_BACKWARD, AFFINE, POW, POW_BACKWARD,
            CLAMP, BINARY, WHERE, SWIGLU, SWIGLU_BACKWARD, RMSNORM, RMSNORM_DX, RMSNORM_DW, LAYERNORM, SOFTMAX, SOFTMAX_BACKWARD,
            REDUCE_ROWS, ARGMAX_ROWS, SUM_SQUARES, CROSS_ENTROPY, CROSS_ENTROPY_BACKWARD, CROSS_ENTROPY_WITH_GRAD, EMBEDDING,
            EMBEDDING_BACKWARD, ROPE, ADAMW, SGD, ATTENTION_FWD, ATTENTION_DELTA, ATTENTION_BWD_DQ, ATTENTION_BWD_DKV, ATTENTION_PROBS,
            ATTENTION_SCORE_GRADS, FLASH_FWD_D64, FLASH_FWD_D128, FLASH_BWD_DQ_D64,
            FLASH_BWD_DQ_D128, FLASH_BWD_DKV_D64, FLASH_BWD_DKV_D128, GEMV_Q8_0,
            GEMV_Q4_0, GEMV_BF16);

    /** The modules (PTX files) the kernels live in. */
    public static List<String> modules() {
        return ALL.stream().map(KernelSpec::module).distinct().sorted().toList();
    }
}
