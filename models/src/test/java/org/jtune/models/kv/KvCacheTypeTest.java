package org.jtune.models.kv;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.models.TinyModels;
import org.jtune.models.config.LlamaConfig;
import org.jtune.tensor.DType;
import org.jtune.tensor.SimulatedDevice;
import org.junit.jupiter.api.Test;

/**
 * {@code --kv-type}'s names, and what {@code auto} picks: BF16 for a 16-bit checkpoint, F32 for an F32 one, one without a
 * torch_dtype (a GGUF file's) and on a device; a pool's and a block's bytes follow the type.
 */
class KvCacheTypeTest {
    private static LlamaConfig checkpoint(String torchDtype) {
        return TinyModels.config(2).toBuilder().torchDtype(torchDtype).build();
    }

    @Test
    void namesAndAuto() {
        assertNull(KvCacheType.parse("auto"));
        assertEquals(DType.F32, KvCacheType.parse("F32"));
        assertEquals(DType.BF16, KvCacheType.parse("bf16"));
        assertEquals(DType.F16, KvCacheType.parse("f16"));
        var e = assertThrows(IllegalArgumentException.class, () -> KvCacheType.parse("q8_0"));
        assertTrue(e.getMessage().contains("'q8_0'") && e.getMessage().contains("auto, f32, bf16 or f16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvCacheType.check(DType.I32));

        assertEquals(DType.BF16, KvCacheType.auto(checkpoint("bfloat16"), null));
        assertEquals(DType.BF16, KvCacheType.auto(checkpoint("float16"), null));
        assertEquals(DType.F32, KvCacheType.auto(checkpoint("float32"), null));
        assertEquals(DType.F32, KvCacheType.auto(checkpoint(null), null));
        assertEquals(DType.F32, KvCacheType.auto(checkpoint("bfloat16"), SimulatedDevice.INSTANCE.device()));
        assertEquals(DType.F16, KvCacheType.orAuto(DType.F16, checkpoint("bfloat16"), null));
    }

    @Test
    void halfPrecisionBlocksTakeHalfTheBytes() {
        LlamaConfig c = TinyModels.config(2);
        assertEquals(2 * KvBlockPool.bytesPerBlock(c, 16, DType.BF16), KvBlockPool.bytesPerBlock(c, 16, DType.F32));
        assertEquals(2 * KvBlockPool.forBudget(c, 1 << 20, 16, DType.F32).totalBlocks(), KvBlockPool.forBudget(c, 1 << 20, 16, DType.F16).totalBlocks());
        assertEquals(DType.BF16, new KvBlockPool(2, 2, 8, 4, 3, DType.BF16).keys(1).dtype());
    }
}
