package org.jtune.tensor;

/**
 * Element types a tensor can hold. Arithmetic is always done in F32 (floating types) or int (I32);
 * F16/BF16 are storage formats converted inside the kernels. Block-quantized formats of the quant
 * module are described by {@link #blockSize()} and {@link #blockBytes()} (one element per block here).
 */
public enum DType {
    F32(4, true), F16(2, true), BF16(2, true), I32(4, false), I8(1, false), U8(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return floating;
    }

    /** Elements per quantization block (1 for plain types). */
    public int blockSize() {
        return 1;
    }

    /** Bytes per block (the element size for plain types). */
    public int blockBytes() {
        return byteSize;
    }

    /** The dtype of a safetensors header string ("F32", "BF16", ...), or null when unknown. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            case "I32" -> I32;
            case "I8" -> I8;
            case "U8" -> U8;
            default -> null;
        };
    }
}
