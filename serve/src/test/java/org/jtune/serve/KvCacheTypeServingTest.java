package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.junit.jupiter.api.Test;

/**
 * The KV cache type a server runs: by default (--kv-type auto) BF16 for a bfloat16 checkpoint and F32 for a float32 one, a
 * type given wins, and the engine's pool and the model's caches take it, its budget counting that type's bytes.
 */
class KvCacheTypeServingTest {
    private static CausalLM model(String torchDtype) {
        LlamaConfig c = LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(32).intermediateSize(48)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).ropeTheta(10000).rmsNormEps(1e-5)
                .tieWordEmbeddings(false).maxPositionEmbeddings(64).vocabSize(61).bosTokenIds(List.of(1)).eosTokenIds(List.of(2))
                .torchDtype(torchDtype).build();
        return Architectures.random(c, new Rng(5), 0.3f);
    }

    @Test
    void autoFollowsTheCheckpointAndAGivenTypeWins() throws Exception {
        long budget = 8 * KvBlockPool.bytesPerBlock(model("float32").config(), BatchingEngine.Options.KV_BLOCK_TOKENS, DType.F32);
        ServeConfig auto = ServeConfig.of(Path.of(".")), f32 = auto.withKvCacheType(DType.F32);
        auto = new ServeConfig(auto.modelDir(), null, null, null, null, 0, null, 2, 4, 1 << 20, null, 64, budget);
        for (String dtype : new String[] {"bfloat16", "float32"}) {
            CausalLM m = model(dtype);
            ServedModels models = ServedModels.of("m", m);
            BatchingEngine.Options options = ServeLauncher.engineOptions(auto, models);
            DType want = dtype.equals("bfloat16") ? DType.BF16 : DType.F32;
            assertEquals(want, options.kvCacheType(), dtype);
            try (BatchingEngine e = BatchingEngine.start(models, options)) {
                assertEquals(want, m.kvCacheType(), dtype + ": the model's caches");
                assertEquals(want == DType.BF16 ? 16 : 8, e.gauges().kv().totalBlocks(), dtype + ": blocks in the same budget");
            }
            assertEquals(DType.F32, ServeLauncher.engineOptions(f32, ServedModels.of("m", model(dtype))).kvCacheType(), dtype + " with f32 given");
        }
    }
}
