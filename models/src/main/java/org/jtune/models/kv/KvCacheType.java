package org.jtune.models.kv;

import java.util.Locale;
import org.jtune.models.config.ModelConfig;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;

/**
 * The element types a KV cache may keep keys and values in: F32 (a model's default), or BF16 or F16 at half the memory, as
 * llama.cpp's {@code --cache-type-k/-v} and vLLM's {@code --kv-cache-dtype} offer. Keys and values are rounded to nearest
 * even once when stored and widened exactly when attention reads them, so attention over a half-precision cache equals
 * attention over F32 buffers holding the rounded values. On the CPU, decode steps read BF16 as fast as F32 (2026-12-06:
 * 12.6–14.5 against 14.6–15.7 ns per key and query head at 1024 positions, one thread); F16 keeps three more mantissa
 * bits but its attention takes about 2.4 × F32's there (35.9–37.2 ns; the Vector API has no half-precision conversion).
 * Device backends keep F32 caches. The CLI's default, {@code auto} ({@link #auto}), follows the checkpoint as vLLM does; a
 * model made in code keeps F32 until {@link org.jtune.models.CausalLM#setKvCacheType} says otherwise.
 */
public final class KvCacheType {
    private KvCacheType() {}

    /** The type named by {@code f32}, {@code bf16} or {@code f16} (any case), or null for {@code auto} ({@link #auto}). */
    public static DType parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "auto" -> null;
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("unknown KV cache type '" + name + "': use auto, f32, bf16 or f16");
        };
    }

    /**
     * The type {@code auto} picks for a model, as vLLM's {@code --kv-cache-dtype auto} follows the checkpoint: BF16 for a
     * 16-bit checkpoint (torch_dtype bfloat16 or float16: its own precision, and the faster 16-bit type on the CPU), F32
     * for an F32 one or none named (GGUF files, whose projections are quantized or F32), and F32 on a device.
     */
    public static DType auto(ModelConfig config, Device device) {
        if (device != null && !device.isHost()) return DType.F32;
        String dtype = config.torchDtype();
        return "bfloat16".equals(dtype) || "float16".equals(dtype) ? DType.BF16 : DType.F32;
    }

    /** {@code type}, or {@link #auto} when it is null. */
    public static DType orAuto(DType type, ModelConfig config, Device device) {
        return type != null ? type : auto(config, device);
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
