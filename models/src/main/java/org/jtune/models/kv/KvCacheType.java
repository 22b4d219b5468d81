package org.jtune.models.kv;

import java.util.Locale;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;

/**
 * The element types a KV cache may keep keys and values in: F32 (the default), or BF16 or F16 at half the memory, as
 * llama.cpp's {@code --cache-type-k/-v} and vLLM's {@code --kv-cache-dtype} offer. Keys and values are rounded to nearest
 * even once when stored and widened exactly when attention reads them, so attention over a half-precision cache equals
 * attention over F32 buffers holding the rounded values. On the CPU, decode steps read BF16 as fast as F32 (2026-12-06:
 * 12.6–14.5 against 14.6–15.7 ns per key and query head at 1024 positions, one thread); F16 keeps three more mantissa
 * bits but its widening costs about 2.7 × the time there (the Vector API has no half-precision conversion instruction).
 * Device backends keep F32 caches.
 */
public final class KvCacheType {
    private KvCacheType() {}

    /** The type named by {@code f32}, {@code bf16} or {@code f16} (any case). */
    public static DType parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("unknown KV cache type '" + name + "': use f32, bf16 or f16");
        };
    }

    /** type itself when a KV cache may hold it, else an error naming the choices. */
    public static DType check(DType type) {
        if (type != DType.F32 && type != DType.BF16 && type != DType.F16) {
            throw new IllegalArgumentException("a KV cache holds F32, BF16 or F16, not " + type);
        }
        return type;
    }

    /** An error when a half-precision cache would move to a device (their attention kernels read F32 caches). */
    public static void requireHostUnlessF32(DType type, Device device) {
        if (type != DType.F32 && !device.isHost()) {
            throw new IllegalStateException("a " + type + " KV cache is kept on the CPU only; on " + device + " use the F32 cache (--kv-type f32)");
        }
    }
}
