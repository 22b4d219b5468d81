package org.jtune.cli;

import org.jtune.JtuneException;
import org.jtune.models.kv.KvCacheType;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import picocli.CommandLine.Option;

/** {@code --kv-type}, for the commands that generate (generate, chat, eval, serve): see {@link KvCacheType}. */
final class KvTypeOption {
    @Option(names = "--kv-type", paramLabel = "auto|f32|bf16|f16", defaultValue = "auto",
            description = "Element type of the KV cache (default ${DEFAULT-VALUE}: bf16 for a 16-bit checkpoint (torch_dtype bfloat16 "
                    + "or float16), else f32). bf16 and f16 halve its memory (longer contexts, more sequences per budget), keys and "
                    + "values rounded once when stored; bf16 decodes about as fast as f32 on the CPU, f16 keeps three more mantissa bits but "
                    + "its attention is slower there. On a device: f32 only.")
    String name;

    /** The type named, null for auto; an error for an unknown name, or a half-precision type on a device (null: not known yet). */
    DType type(Device device) throws JtuneException {
        DType type;
        try {
            type = KvCacheType.parse(name);
        } catch (IllegalArgumentException e) {
            throw new JtuneException("--kv-type: " + e.getMessage());
        }
        if (device != null && type != null) {
            try {
                KvCacheType.requireHostUnlessF32(type, device);
            } catch (IllegalStateException e) {
                throw new JtuneException("--kv-type " + name + ": " + e.getMessage());
            }
        }
        return type;
    }
}
