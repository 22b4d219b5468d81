package org.jtune.models.io;

import org.jtune.tensor.DType;

/**
 * The element types a safetensors header may name, with their width in bits and the jtune
 * {@link DType} that can view them (null when jtune cannot compute with that type). Knowing every
 * type's width lets a reader validate and skip tensors it cannot use (F64, I64, BOOL, FP8, ...)
 * while still opening the file; a name missing here is an unknown dtype and makes the header invalid.
 */
public enum SafetensorsDType {
    BOOL(8, null), U8(8, DType.U8), I8(8, DType.I8),
    F8_E5M2(8, null), F8_E4M3(8, null), F8_E8M0(8, null),
    I16(16, null), U16(16, null), F16(16, DType.F16), BF16(16, DType.BF16),
    I32(32, DType.I32), U32(32, null), F32(32, DType.F32),
    I64(64, null), U64(64, null), F64(64, null), C64(64, null),
    F4(4, null), F6_E2M3(6, null), F6_E3M2(6, null);

    private final int bits;
    private final DType tensorDType;

    SafetensorsDType(int bits, DType tensorDType) {
        this.bits = bits;
        this.tensorDType = tensorDType;
    }

    /** Width of one element in bits (sub-byte types pack several elements per byte). */
    public int bits() {
        return bits;
    }

    /** The jtune dtype for this type, or null when jtune cannot hold it as a tensor. */
    public DType tensorDType() {
        return tensorDType;
    }

    /** The header's name for a jtune dtype. */
    public static SafetensorsDType of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case I32 -> I32;
            case I8 -> I8;
            case U8 -> U8;
            case BLOCK -> throw new IllegalArgumentException("a block-quantized tensor has no safetensors dtype: it is written as U8 rows "
                    + "of its codec (see docs/QUANT.md)");
        };
    }

    /** The type a header string names, or null when the name is unknown. */
    public static SafetensorsDType parse(String name) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(name)) return t;
        }
        return null;
    }
}
