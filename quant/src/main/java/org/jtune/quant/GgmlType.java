package org.jtune.quant;

/**
 * The tensor element types of ggml as GGUF stores them (the {@code ggml_type} enum of the GGUF
 * specification): the id written in a tensor info, the name ggml prints, and the block geometry
 * (elements per block, bytes per block) that fixes a tensor's byte size. Every type the spec lists is
 * here, so a reader can check the size of any tensor; {@link #format()} says which ones jtune can
 * quantize, dequantize and multiply (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K). Block sizes are those of
 * ggml-common.h (QK4_0 = QK8_0 = 32, QK_K = 256, ...).
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136), I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The number written in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (the element size for plain types). */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether this is a block-quantized type (more than one element per block). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes of a row of {@code cols} elements; cols must be a multiple of the block size. */
    public long rowBytes(long cols) {
        if (cols % blockSize != 0) {
            throw new IllegalArgumentException(name() + ": a row of " + cols + " elements is not a whole number of "
                    + blockSize + "-element blocks");
        }
        return cols / blockSize * blockBytes;
    }

    /** The type of a GGUF tensor-info id, or null when ggml has no such type. */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /** The type named by ggml's spelling, case-insensitive ("q4_k", "Q8_0", "bf16"), or null. */
    public static GgmlType byName(String name) {
        for (GgmlType t : values()) if (t.name().equalsIgnoreCase(name)) return t;
        return null;
    }

    /** The jtune block format of this type, or null when jtune cannot compute with it. */
    public BlockFormat format() {
        return switch (this) {
            case F32 -> F32Format.INSTANCE;
            case F16 -> F16Format.INSTANCE;
            case BF16 -> Bf16Format.INSTANCE;
            case Q8_0 -> Q8_0Format.INSTANCE;
            case Q4_0 -> Q4_0Format.INSTANCE;
            case Q5_0 -> Q5_0Format.INSTANCE;
            case Q4_K -> Q4KFormat.INSTANCE;
            case Q6_K -> Q6KFormat.INSTANCE;
            default -> null;
        };
    }
}
