package org.jtune.tensor;

/**
 * Element types a tensor can hold. Arithmetic is always done in F32 (floating types) or int (I32);
 * F16/BF16 are storage formats converted inside the kernels. {@link #BLOCK} marks a block-quantized
 * matrix: its bytes are rows of a {@link BlockCodec} that its {@link Storage} names
 * ({@link Tensor#blockQuantized}); it is not element-addressable and is not floating for the generic ops,
 * so only the ops that know blocks accept it (linear, matmul with it as the right operand, embedding,
 * conversion to a plain dtype); any other op refuses it by its dtype.
 */
public enum DType {
    F32(4, true), F16(2, true), BF16(2, true), I32(4, false), I8(1, false), U8(1, false),
    /** Block-quantized rows; the codec is the storage's ({@link Storage#codec()}); byteSize is nominal. */
    BLOCK(1, false);

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
