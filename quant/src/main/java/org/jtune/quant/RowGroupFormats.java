package org.jtune.quant;

import org.jtune.tensor.Tensor;

/**
 * Where block-quantized matrices change between ggml's rows (files) and jtune's interleaved layouts for the integer
 * kernels ({@link org.jtune.tensor.RowGroupCodec}): {@link #repacked} where weights are bound or quantized in memory,
 * {@link #unpacked} where they are written. One entry per layout: {@link Q4_0x32Format} for Q4_0,
 * {@link Q4_Kx32Format} for Q4_K, {@link Q6_Kx32Format} for Q6_K.
 */
public final class RowGroupFormats {
    private RowGroupFormats() {}

    /** t in its interleaved layout when it is a whole matrix of a format that has one and fits it (a new copy); otherwise t. */
    public static Tensor repacked(Tensor t) {
        return Q6_Kx32Format.repacked(Q4_Kx32Format.repacked(Q4_0x32Format.repacked(t)));
    }

    /** A whole matrix of an interleaved layout as ggml's rows again (for writing files); any other tensor unchanged. */
    public static Tensor unpacked(Tensor t) {
        return Q6_Kx32Format.unpacked(Q4_Kx32Format.unpacked(Q4_0x32Format.unpacked(t)));
    }
}
