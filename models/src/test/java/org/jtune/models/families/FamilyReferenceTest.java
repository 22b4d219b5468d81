package org.jtune.models.families;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.CrossEntropy;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen2, Qwen3, Qwen3-MoE, Mixtral, Granite, Phi-3, Gemma 3 and SmolLM3 against an independent float64 PyTorch implementation
 * (bench/peers/families/families_reference.py) on tiny random checkpoints with odd sizes (hidden
 * 60, 56 and 84, vocab 227, 229 and 211, GQA 6:3 and 6:2, Qwen2 with per-layer sliding windows and tied
 * head, Qwen3 with per-head q/k norms and a head_dim (14) that is not hidden/heads, Qwen3-MoE with 6 experts, 2 per token
 * (normalised), beside a dense layer (mlp_only_layers; its smallest router margin is checked so that float32 routes as
 * float64 does), Mixtral with 5 experts over a single KV head and a sliding window of 11, Granite with its four multipliers
 * (attention_multiplier 1/16, not 1/√12), Gemma 3 with sliding and full
 * layers alternating (local and global RoPE bases, linear scaling on the global one), (1 + w) norms around attention and
 * MLP, GELU-tanh gates, query_pre_attn_scalar 12 against head_dim 16 and soft-capped logits, SmolLM3 with every second
 * layer attending without RoPE, Phi-3 with partial rotary, LongRoPE short and long factors and a sliding window): greedy ids
 * over 64 tokens identical (through the step engine, KV caches and, for Phi-3, the recompute at the
 * LongRoPE switch), logits within 1e-4, the loss and every parameter gradient within 1e-4 relative
 * (to the tensor's largest entry). The checkpoint is generated here bit for bit as the script makes
 * it; the committed reference holds the ids, a sample of logits, the loss, per-tensor gradient
 * norms and a sample of gradient entries. When python3-torch is installed the script also runs live
 * on the same folder and every logit and gradient entry is compared.
 */
class FamilyReferenceTest {
    private static final float LOGIT_TOL = 1e-4f;
    private static final double GRAD_REL_TOL = 1e-4;

    @Test
    void qwen2MatchesItsReference(@TempDir Path tmp) throws Exception {
        check("qwen2", tmp);
    }

    @Test
    void qwen3MatchesItsReference(@TempDir Path tmp) throws Exception {
        check("qwen3", tmp);
    }

    @Test
    void qwen3MatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("qwen3", tmp);
    }

    @Test
    void qwen3MoeMatchesItsReference(@TempDir Path tmp) throws Exception {
        check("qwen3_moe", tmp);
    }

    @Test
    void qwen3MoeMatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("qwen3_moe", tmp);
    }

    @Test
    void mixtralMatchesItsReference(@TempDir Path tmp) throws Exception {
        check("mixtral", tmp);
    }

    @Test
    void mixtralMatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("mixtral", tmp);
    }

    @Test
    void graniteMatchesItsReference(@TempDir Path tmp) throws Exception {
        check("granite", tmp);
    }

    @Test
    void graniteMatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("granite", tmp);
    }

    @Test
    void gemma3MatchesItsReference(@TempDir Path tmp) throws Exception {
        check("gemma3", tmp);
    }

    @Test
    void gemma3MatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("gemma3", tmp);
    }

    @Test
    void smollm3MatchesItsReference(@TempDir Path tmp) throws Exception {
        check("smollm3", tmp);
    }

    @Test
    void smollm3MatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("smollm3", tmp);
    }

    @Test
    void phi3MatchesItsReference(@TempDir Path tmp) throws Exception {
        check("phi3", tmp);
    }

    @Test
    void qwen2MatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("qwen2", tmp);
    }

    @Test
    void phi3MatchesTheLiveTorchReference(@TempDir Path tmp) throws Exception {
        live("phi3", tmp);
    }

    private static void check(String family, Path tmp) throws Exception {
        JsonNode ref = FamilyCheckpoint.reference(family);
        Path dir = tmp.resolve(family);
        FamilyCheckpoint.write(ref, dir);
        try (CausalLM model = Architectures.load(dir)) {
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (Weight w : model.weights().all()) shapes.put(w.name(), w.shape());
            List<String> expectedNames = new ArrayList<>();
            ref.get("shapes").fieldNames().forEachRemaining(expectedNames::add);
            assertEquals(new java.util.TreeSet<>(expectedNames), new java.util.TreeSet<>(shapes.keySet()), family + ": the Hugging Face name table");
            for (String n : expectedNames) assertArrayEquals(ints(ref.get("shapes").get(n)), shapes.get(n), family + ": shape of " + n);

            if (ref.has("min_router_margin")) {
                // a float32 router probability is within ~1e-7 of float64's: a wider gap means both choose the same experts
                assertTrue(ref.get("min_router_margin").asDouble() > 1e-5, family + ": the reference routes some token at a near tie");
            }
            assertArrayEquals(ints(ref.get("greedy")), greedy(model, ints(ref.get("prompt"))), family + ": greedy ids over 64 tokens");

            double worst = 0;
            for (var e : fields(ref.get("logits"))) {
                float[] logits = logits(model, ints(ref.get("sequences").get(e.getKey())));
                JsonNode idx = e.getValue().get("index"), val = e.getValue().get("value");
                for (int i = 0; i < idx.size(); i++) {
                    double d = Math.abs(logits[idx.get(i).asInt()] - val.get(i).asDouble());
                    worst = Math.max(worst, d);
                    assertTrue(d <= LOGIT_TOL, family + " " + e.getKey() + ": logit " + idx.get(i).asInt() + " = " + logits[idx.get(i).asInt()]
                            + ", reference " + val.get(i).asDouble());
                }
            }
            Gradients g = gradients(model, ints(ref.get("sequences").get("long")));
            assertEquals(ref.get("loss").asDouble(), g.loss, 1e-5 * Math.abs(ref.get("loss").asDouble()), family + ": loss");
            double worstGrad = 0;
            for (var e : fields(ref.get("grads"))) {
                float[] got = g.grads.get(e.getKey());
                assertNotNull(got, family + ": no gradient for " + e.getKey());
                double maxAbs = e.getValue().get("max_abs").asDouble(), norm = e.getValue().get("norm").asDouble();
                double gotMax = 0, gotSq = 0;
                for (float x : got) {
                    gotMax = Math.max(gotMax, Math.abs(x));
                    gotSq += (double) x * x;
                }
                assertEquals(maxAbs, gotMax, GRAD_REL_TOL * maxAbs, family + ": max |grad| of " + e.getKey());
                assertEquals(norm, Math.sqrt(gotSq), GRAD_REL_TOL * norm, family + ": |grad| of " + e.getKey());
                JsonNode idx = e.getValue().get("index"), val = e.getValue().get("value");
                for (int i = 0; i < idx.size(); i++) {
                    double rel = Math.abs(got[idx.get(i).asInt()] - val.get(i).asDouble()) / maxAbs;
                    worstGrad = Math.max(worstGrad, rel);
                    assertTrue(rel <= GRAD_REL_TOL, family + ": grad " + e.getKey() + "[" + idx.get(i).asInt() + "] = " + got[idx.get(i).asInt()]
                            + ", reference " + val.get(i).asDouble());
                }
            }
            System.out.printf("%s vs committed reference: greedy 64/64, max |dlogit| %.2e, loss %.8f vs %.8f, max grad rel %.2e%n",
                    family, worst, g.loss, ref.get("loss").asDouble(), worstGrad);
        }
    }

    private static void live(String family, Path tmp) throws Exception {
        String why = TorchOracle.unavailable();
        Assumptions.assumeTrue(why == null, "live PyTorch reference skipped: " + why);
        JsonNode ref = FamilyCheckpoint.reference(family);
        Path dir = tmp.resolve(family);
        FamilyCheckpoint.write(ref, dir);
        JsonNode torch = TorchOracle.run(dir, tmp);
        try (CausalLM model = Architectures.load(dir)) {
            assertArrayEquals(ints(torch.get("greedy")), greedy(model, ints(torch.get("prompt"))), family + ": greedy ids (live)");
            double worst = 0;
            for (var e : fields(torch.get("logits"))) {
                float[] logits = logits(model, ints(torch.get("sequences").get(e.getKey())));
                int i = 0;
                for (JsonNode row : e.getValue()) for (JsonNode x : row) worst = Math.max(worst, Math.abs(logits[i++] - x.asDouble()));
                assertEquals(logits.length, i, family + ": logits count");
            }
            assertTrue(worst <= LOGIT_TOL, family + ": max |dlogit| " + worst);
            Gradients g = gradients(model, ints(torch.get("sequences").get("long")));
            assertEquals(torch.get("loss").asDouble(), g.loss, 1e-5 * Math.abs(torch.get("loss").asDouble()), family + ": loss (live)");
            double worstGrad = 0;
            String worstName = null;
            for (var e : fields(torch.get("grads"))) {
                float[] got = g.grads.get(e.getKey());
                double maxAbs = 0, maxDiff = 0;
                int i = 0;
                for (JsonNode x : e.getValue()) {
                    maxAbs = Math.max(maxAbs, Math.abs(x.asDouble()));
                    maxDiff = Math.max(maxDiff, Math.abs(got[i++] - x.asDouble()));
                }
                assertEquals(got.length, i, family + ": gradient size of " + e.getKey());
                double rel = maxDiff / maxAbs;
                if (rel > worstGrad) {
                    worstGrad = rel;
                    worstName = e.getKey();
                }
                assertTrue(rel <= GRAD_REL_TOL, family + ": gradient of " + e.getKey() + " differs by " + rel + " of its largest entry");
            }
            System.out.printf("%s vs live torch (float64): greedy 64/64 (min top-2 margin %.2e), max |dlogit| %.2e over all logits, "
                    + "loss %.8f vs %.8f, max grad rel %.2e (%s) over %d tensors%n", family, torch.get("min_margin").asDouble(), worst, g.loss,
                    torch.get("loss").asDouble(), worstGrad, worstName, g.grads.size());
        }
    }

    static int[] greedy(CausalLM model, int[] prompt) throws Exception {
        SamplingConfig cfg = SamplingConfig.greedy(64).withStopIds(List.of());
        return Generator.generate(model, List.of(prompt), cfg, null, null).getFirst().outputIds();
    }

    /** Logits (T·vocab) of one sequence at positions 0..T−1. */
    static float[] logits(CausalLM model, int[] seq) {
        try (var g = NoGrad.enter()) {
            Variable h = model.hidden(Tensor.ofInts(seq, 1, seq.length), positions(seq.length), ForwardPass.of(AttentionMask.causalMask()));
            return model.logits(h).value().toFloatArray();
        }
    }

    record Gradients(double loss, Map<String, float[]> grads) {}

    /** Mean next-token cross-entropy of {@code seq} and its gradient for every weight (all made trainable in F32). */
    static Gradients gradients(CausalLM model, int[] seq) {
        Map<String, Variable> params = new LinkedHashMap<>();
        for (Weight w : model.weights().all()) {
            Variable p = Variable.parameter(w.value().value().to(org.jtune.tensor.DType.F32).copy()).named(w.name());
            w.set(p);
            params.put(w.name(), p);
        }
        int t = seq.length - 1;
        int[] in = java.util.Arrays.copyOf(seq, t), target = java.util.Arrays.copyOfRange(seq, 1, seq.length);
        Variable h = model.hidden(Tensor.ofInts(in, 1, t), positions(t), ForwardPass.of(AttentionMask.causalMask()));
        Variable logits = model.logits(h).reshape(t, model.config().vocabSize());
        Variable loss = CrossEntropy.apply(logits, Tensor.ofInts(target, t), -100, t);
        loss.backward();
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (var e : params.entrySet()) grads.put(e.getKey(), e.getValue().grad().toFloatArray());
        return new Gradients(loss.value().item(), grads);
    }

    static Tensor positions(int t) {
        int[] p = new int[t];
        for (int i = 0; i < t; i++) p[i] = i;
        return Tensor.ofInts(p, 1, t);
    }

    static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).asInt();
        return a;
    }

    static List<Map.Entry<String, JsonNode>> fields(JsonNode o) {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) out.add(it.next());
        return out;
    }
}
