package org.jtune.tensor.cuda;

import org.jtune.tensor.DType;

/** The element-type codes of the CUDA kernels (common.cuh: DT_F32 0, DT_F16 1, DT_BF16 2, DT_I32 3). */
final class CudaDType {
    private CudaDType() {}

    static int code(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case I32 -> 3;
            default -> throw new IllegalArgumentException("cuda kernels convert F32, F16, BF16 and I32; " + t + " moves only as contiguous bytes");
        };
    }
}
