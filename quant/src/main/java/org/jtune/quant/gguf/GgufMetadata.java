package org.jtune.quant.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key-value metadata of a GGUF file in file order, with typed getters whose errors name the key and
 * what was found. Integer getters accept every integer type (the spec recommends readers take uint32
 * and uint64 alike).
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    public GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private GgufValue require(String key, String what) throws GgufException {
        GgufValue v = values.get(key);
        if (v == null) throw new GgufException(source + ": metadata key " + key + " is missing (" + what + " expected)");
        return v;
    }

    private GgufException wrongType(String key, GgufValue v, String what) {
        return new GgufException(source + ": metadata key " + key + " is " + v + ", " + what + " expected");
    }

    public String getString(String key) throws GgufException {
        GgufValue v = require(key, "a string");
        if (v.type() != GgufValueType.STRING) throw wrongType(key, v, "a string");
        return (String) v.value();
    }

    public long getLong(String key) throws GgufException {
        GgufValue v = require(key, "an integer");
        if (!v.type().isInteger()) throw wrongType(key, v, "an integer");
        return (Long) v.value();
    }

    public int getInt(String key) throws GgufException {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw new GgufException(source + ": metadata key " + key + " = " + v + " does not fit an int");
        return (int) v;
    }

    /** A FLOAT32 or FLOAT64 value (or an integer) as a double. */
    public double getDouble(String key) throws GgufException {
        GgufValue v = require(key, "a number");
        return switch (v.value()) {
            case Float f -> f;
            case Double d -> d;
            case Long l when v.type().isInteger() -> l;
            default -> throw wrongType(key, v, "a number");
        };
    }

    public boolean getBool(String key) throws GgufException {
        GgufValue v = require(key, "a bool");
        if (v.type() != GgufValueType.BOOL) throw wrongType(key, v, "a bool");
        return (Boolean) v.value();
    }

    public String[] getStrings(String key) throws GgufException {
        GgufValue v = require(key, "an array of strings");
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) throw wrongType(key, v, "an array of strings");
        return ((String[]) v.value()).clone();
    }

    public float[] getFloats(String key) throws GgufException {
        GgufValue v = require(key, "an array of float32");
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.FLOAT32) throw wrongType(key, v, "an array of float32");
        return ((float[]) v.value()).clone();
    }

    /** An array of any integer type, as ints (an error names the key when a value does not fit). */
    public int[] getInts(String key) throws GgufException {
        GgufValue v = require(key, "an array of integers");
        if (v.type() != GgufValueType.ARRAY || !v.elementType().isInteger()) throw wrongType(key, v, "an array of integers");
        long[] a = (long[]) v.value();
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            if (a[i] < Integer.MIN_VALUE || a[i] > Integer.MAX_VALUE) throw new GgufException(source + ": " + key + "[" + i + "] = " + a[i] + " does not fit an int");
            out[i] = (int) a[i];
        }
        return out;
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
