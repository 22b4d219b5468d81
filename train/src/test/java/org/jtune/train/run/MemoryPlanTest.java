package org.jtune.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.qwen2.Qwen2Config;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The memory plan against what the autograd graph really keeps: the heap retained at the end of a forward pass
 * (after full collections) equals the plan's forward-end activations, with and without per-layer checkpointing;
 * the static parts are the model's own sizes; and the refusal names the fixes.
 */
class MemoryPlanTest {
    private static final LlamaConfig CONFIG = LlamaConfig.builder().hiddenSize(128).intermediateSize(352).numHiddenLayers(4)
            .numAttentionHeads(4).numKeyValueHeads(2).vocabSize(256).maxPositionEmbeddings(256).build();
    private static final int B = 4, T = 256;

    private static long usedAfterCollections() {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) { // until it stops falling: the cleaner and reference queues settle over a few
            System.gc();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    private static MemoryPlan planAndMeasure(boolean checkpointing, long[] retained) {
        return planAndMeasure(CONFIG, checkpointing, retained);
    }

    private static MemoryPlan planAndMeasure(ModelConfig config, boolean checkpointing, long[] retained) {
        CausalLM model = Architectures.random(config, new Rng(3), 0.02f);
        var trainable = LoraAdapters.attach(model, Adapters.DEFAULT, new LoraConfig(8, 16f, 0f, List.of("all-linear"), false, List.of()),
                new Rng(4), false);
        long values = trainable.values().stream().mapToLong(p -> p.value().numel()).sum();
        MemoryPlan plan = MemoryPlan.of(model, new MemoryPlan.Workload((long) B * T, checkpointing, values, 2, false));
        Rng rng = new Rng(5);
        int[] ids = new int[B * T], pos = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(config.vocabSize());
            pos[i] = i % T;
        }
        Tensor idT = Tensor.ofInts(ids, B, T), posT = Tensor.ofInts(pos, B, T);
        ForwardPass pass = ForwardPass.training(AttentionMask.causalMask(), null, checkpointing);
        model.logits(model.hidden(idT, posT, pass)); // warm: classes and caches the measured pass would otherwise count
        // measured twice, the smaller kept: the threads claim pieces of each product as they come, so a pool thread that
        // took no piece of some kernel in the warm-up makes its thread-local buffers in a later pass (a CI run once counted
        // 2.4 MB of them here)
        retained[0] = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 2; attempt++) {
            long before = usedAfterCollections();
            Variable logits = model.logits(model.hidden(idT, posT, pass));
            retained[0] = Math.min(retained[0], usedAfterCollections() - before);
            Reference.reachabilityFence(logits);
        }
        return plan;
    }

    @Test
    void forwardEndActivationsAreWhatTheGraphKeepsWithoutCheckpointing() {
        long[] retained = new long[1];
        MemoryPlan plan = planAndMeasure(false, retained);
        // 4 layers × 1024 tokens × (4·128 + 2·128 + 2·64 + 4 + 3·352 + 7·8 per-token values) + (2·128 + 256) values at the head
        long expected = 4L * (4 * 1024L * (512 + 256 + 128 + 4 + 1056 + 56) + 1024L * (256 + 256));
        assertEquals(expected, plan.forwardEndBytes());
        double ratio = (double) retained[0] / plan.forwardEndBytes();
        assertTrue(ratio > 0.9 && ratio < 1.1, "retained " + retained[0] + " B against the plan's " + plan.forwardEndBytes() + " B: " + ratio);
    }

    @Test
    void qwen3LayersAlsoKeepTheInputsOfTheirQueryAndKeyNorms() {
        // head_dim 64 over 4 heads: q = 256 and kv = 128 are not the hidden size, so a miscount of either shows
        ModelConfig qwen3 = Qwen2Config.builder().qwen3().hiddenSize(128).intermediateSize(352).numHiddenLayers(4).numAttentionHeads(4)
                .numKeyValueHeads(2).headDim(64).vocabSize(256).maxPositionEmbeddings(256).build();
        long[] retained = new long[1];
        MemoryPlan plan = planAndMeasure(qwen3, false, retained);
        double ratio = (double) retained[0] / plan.forwardEndBytes();
        assertTrue(ratio > 0.95 && ratio < 1.05, "retained " + retained[0] + " B against the plan's " + plan.forwardEndBytes() + " B: " + ratio);
    }

    @Test
    void mixtureLayersKeepTheRoutedRowsOfTheirExperts() throws Exception {
        // 8 experts, 2 per token, one dense layer among four: counting every expert's width or adapters would be 4× off
        ModelConfig moe = org.jtune.models.arch.Architectures.parseConfig("""
                {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 128, "intermediate_size": 352,
                 "moe_intermediate_size": 96, "num_experts": 8, "num_experts_per_tok": 2, "norm_topk_prob": true, "mlp_only_layers": [3],
                 "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 256,
                 "max_position_embeddings": 256}
                """, "moe.json");
        long[] retained = new long[1];
        MemoryPlan plan = planAndMeasure(moe, false, retained);
        double ratio = (double) retained[0] / plan.forwardEndBytes();
        assertTrue(ratio > 0.95 && ratio < 1.05, "retained " + retained[0] + " B against the plan's " + plan.forwardEndBytes() + " B: " + ratio);
    }

    @Test
    void gemma3LayersKeepTheirExtraNormsAndGate() throws Exception {
        // query_pre_attn_scalar 32 against head_dim 64: the scaled queries are kept too
        ModelConfig gemma3 = org.jtune.models.arch.Architectures.parseConfig("""
                {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 128, "intermediate_size": 352,
                 "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "query_pre_attn_scalar": 32,
                 "vocab_size": 256, "max_position_embeddings": 256, "sliding_window": 64, "sliding_window_pattern": 2}
                """, "gemma3.json");
        long[] retained = new long[1];
        MemoryPlan plan = planAndMeasure(gemma3, false, retained);
        double ratio = (double) retained[0] / plan.forwardEndBytes();
        assertTrue(ratio > 0.95 && ratio < 1.05, "retained " + retained[0] + " B against the plan's " + plan.forwardEndBytes() + " B: " + ratio);
    }

    @Test
    void forwardEndActivationsAreWhatTheGraphKeepsWithCheckpointing() {
        long[] retained = new long[1];
        MemoryPlan plan = planAndMeasure(true, retained);
        long expected = 4L * (4 * 1024L * 128 + 1024L * (256 + 256));
        assertEquals(expected, plan.forwardEndBytes());
        double ratio = (double) retained[0] / plan.forwardEndBytes();
        assertTrue(ratio > 0.9 && ratio < 1.1, "retained " + retained[0] + " B against the plan's " + plan.forwardEndBytes() + " B: " + ratio);
    }

    @Test
    void staticPartsAreTheModelsSizes() {
        CausalLM model = Architectures.random(CONFIG, new Rng(3), 0.02f);
        MemoryPlan full = MemoryPlan.of(model, new MemoryPlan.Workload(1024, true, 1000, 2, true));
        long weights = 4L * (2 * 256 * 128 + 128 + 4 * (2 * 128 * 128 + 2 * 64 * 128 + 3 * 128 * 352 + 2 * 128));
        assertEquals(weights, full.weightBytes());
        assertEquals(weights, full.heapWeightBytes(), "random weights live on the heap");
        assertEquals(4L * 1000 * 3, full.trainableBytes(), "full fine-tuning: a gradient and two AdamW moments per value");
        MemoryPlan lora = MemoryPlan.of(model, new MemoryPlan.Workload(1024, true, 1000, 2, false));
        assertEquals(4L * 1000 * 4, lora.trainableBytes(), "LoRA: the values themselves too");
        long heap = (long) ((full.heapWeightBytes() + full.trainableBytes() + full.activationBytes()) * full.heapRatio());
        assertEquals(Math.max(heap, org.jtune.tensor.HeapGrowthLimit.TRAINING_FLOOR) + full.runtimeBytes(), full.peakBytes(),
                "heap parts at the growth limit's ratio, not below its floor");
    }

    @Test
    void refusesWithTheFixesWhenItDoesNotFit() {
        CausalLM model = Architectures.random(CONFIG, new Rng(3), 0.02f);
        MemoryPlan plan = MemoryPlan.of(model, new MemoryPlan.Workload(1 << 20, false, 1000, 2, true));
        assertTrue(plan.refusal(Long.MAX_VALUE, Long.MAX_VALUE).isEmpty());
        String why = plan.refusal(plan.peakBytes() - 1, Long.MAX_VALUE).orElseThrow();
        assertTrue(why.contains("gradient_checkpointing: true") && why.contains("micro_batch_size") && why.contains("adapter: lora"), why);
        String heap = plan.refusal(Long.MAX_VALUE, plan.heapBytes() - 1).orElseThrow();
        assertTrue(heap.contains("maximum heap") && heap.contains("-Xmx"), heap);
    }
}
