package org.jtune.quant.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One metadata value of a GGUF file, with its exact GGUF type kept so that a file read and written back
 * keeps every type. Scalars hold a Long (every integer type; UINT64 as its two's-complement bits), a
 * Float, a Double, a Boolean or a String. An ARRAY holds its element type and a primitive array:
 * long[] for integer elements, float[], double[], boolean[], String[], or GgufValue[] for nested arrays.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {
    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if (type == GgufValueType.ARRAY) {
            Objects.requireNonNull(elementType, "an array needs an element type");
            boolean ok = switch (elementType) {
                case FLOAT32 -> value instanceof float[];
                case FLOAT64 -> value instanceof double[];
                case BOOL -> value instanceof boolean[];
                case STRING -> value instanceof String[];
                case ARRAY -> value instanceof GgufValue[];
                default -> value instanceof long[];
            };
            if (!ok) throw new IllegalArgumentException("array of " + elementType + " cannot hold " + value.getClass().getSimpleName());
        } else {
            boolean ok = switch (type) {
                case FLOAT32 -> value instanceof Float;
                case FLOAT64 -> value instanceof Double;
                case BOOL -> value instanceof Boolean;
                case STRING -> value instanceof String;
                default -> value instanceof Long;
            };
            if (!ok) throw new IllegalArgumentException(type + " cannot hold " + value.getClass().getSimpleName());
        }
    }

    public static GgufValue u8(int v) {
        return integer(GgufValueType.UINT8, v & 0xFFL);
    }

    public static GgufValue i8(int v) {
        return integer(GgufValueType.INT8, (byte) v);
    }

    public static GgufValue u16(int v) {
        return integer(GgufValueType.UINT16, v & 0xFFFFL);
    }

    public static GgufValue i16(int v) {
        return integer(GgufValueType.INT16, (short) v);
    }

    public static GgufValue u32(long v) {
        if (v < 0 || v > 0xFFFFFFFFL) throw new IllegalArgumentException("not a uint32: " + v);
        return integer(GgufValueType.UINT32, v);
    }

    public static GgufValue i32(int v) {
        return integer(GgufValueType.INT32, v);
    }

    public static GgufValue u64(long v) {
        return integer(GgufValueType.UINT64, v);
    }

    public static GgufValue i64(long v) {
        return integer(GgufValueType.INT64, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue f64(double v) {
        return new GgufValue(GgufValueType.FLOAT64, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufValueType.STRING, null, v);
    }

    public static GgufValue integer(GgufValueType type, long v) {
        if (!type.isInteger()) throw new IllegalArgumentException(type + " is not an integer type");
        return new GgufValue(type, null, v);
    }

    public static GgufValue strings(String... v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v.clone());
    }

    public static GgufValue f32s(float... v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, v.clone());
    }

    public static GgufValue i32s(int... v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, Arrays.stream(v).asLongStream().toArray());
    }

    public static GgufValue integers(GgufValueType elementType, long... v) {
        if (!elementType.isInteger()) throw new IllegalArgumentException(elementType + " is not an integer type");
        return new GgufValue(GgufValueType.ARRAY, elementType, v.clone());
    }

    public static GgufValue arrays(GgufValue... v) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.ARRAY, v.clone());
    }

    /** Number of elements of an array value. */
    public int length() {
        return switch (value) {
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case GgufValue[] a -> a.length;
            default -> throw new IllegalStateException(type + " is not an array");
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && v.type == type && v.elementType == elementType && Objects.deepEquals(v.value, value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        String shown = value instanceof Object[] || value.getClass().isArray()
                ? elementType + "[" + length() + "]" : String.valueOf(value);
        return type + ":" + shown;
    }
}
