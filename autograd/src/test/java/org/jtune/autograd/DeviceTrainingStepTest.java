package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Device;
import org.jtune.tensor.Rng;
import org.jtune.tensor.SimulatedDevice;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A training step of a small Llama-shaped block — embedding, RMSNorm, q/k/v/o projections, RoPE,
 * grouped-query attention, residual adds, SwiGLU MLP, tied LM head, consuming cross-entropy — run with
 * every parameter on the simulated device (memory the host cannot address) gives the same loss and
 * the same gradients, bit for bit, as on the CPU: autograd reaches the kernels only through the ops
 * layer, every intermediate and every gradient buffer lives on the parameters' device, and the host
 * inputs (ids, positions, targets, RoPE frequencies) follow them there.
 */
class DeviceTrainingStepTest {
    static final int V = 37, D = 16, HQ = 4, HKV = 2, HD = 4, F = 24, B = 2, T = 7;

    static Map<String, Tensor> weights(Rng rng) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("embed", Tensor.randn(rng, 0.5f, V, D));
        w.put("norm1", Tensor.uniform(rng, 0.5f, 1.5f, D));
        w.put("q", Tensor.randn(rng, 0.3f, HQ * HD, D));
        w.put("k", Tensor.randn(rng, 0.3f, HKV * HD, D));
        w.put("v", Tensor.randn(rng, 0.3f, HKV * HD, D));
        w.put("o", Tensor.randn(rng, 0.3f, D, HQ * HD));
        w.put("norm2", Tensor.uniform(rng, 0.5f, 1.5f, D));
        w.put("gate", Tensor.randn(rng, 0.3f, F, D));
        w.put("up", Tensor.randn(rng, 0.3f, F, D));
        w.put("down", Tensor.randn(rng, 0.3f, D, F));
        return w;
    }

    /** Loss of one step; the parameters' gradients are left in them. */
    static float step(Map<String, Variable> p, Tensor ids, Tensor positions, Tensor invFreq, Tensor targets) {
        Variable x = Embedding.apply(p.get("embed"), ids);                                    // (B, T, D)
        Variable h = RmsNorm.apply(x, p.get("norm1"), 1e-5f);
        Variable q = Rope.apply(Linear.apply(h, p.get("q")).reshape(B, T, HQ, HD), positions, invFreq);
        Variable k = Rope.apply(Linear.apply(h, p.get("k")).reshape(B, T, HKV, HD), positions, invFreq);
        Variable v = Linear.apply(h, p.get("v")).reshape(B, T, HKV, HD);
        Variable a = Attention.apply(q, k, v, AttentionMask.causalMask()).reshape(B, T, HQ * HD);
        Variable r = Arithmetic.add(x, Linear.apply(a, p.get("o")));
        Variable h2 = RmsNorm.apply(r, p.get("norm2"), 1e-5f);
        Variable mlp = Linear.apply(SwiGlu.apply(Linear.apply(h2, p.get("gate")), Linear.apply(h2, p.get("up"))), p.get("down"));
        Variable logits = Linear.apply(Arithmetic.add(r, mlp), p.get("embed")).reshape(B * T, V); // tied head
        Variable loss = CrossEntropy.applyConsumingLogits(logits, targets, -100, B * T);
        loss.backward();
        return loss.value().item();
    }

    @Test
    void aStepOnADeviceEqualsTheStepOnTheCpu() {
        Rng rng = new Rng(5);
        Map<String, Tensor> w = weights(rng);
        int[] idArray = new int[B * T], pos = new int[B * T], tg = new int[B * T];
        for (int i = 0; i < idArray.length; i++) {
            idArray[i] = rng.nextInt(V);
            pos[i] = i % T;
            tg[i] = i % 5 == 0 ? -100 : rng.nextInt(V);
        }
        Tensor ids = Tensor.ofInts(idArray, B, T), positions = Tensor.ofInts(pos, B, T), targets = Tensor.ofInts(tg, B * T);
        float[] inv = new float[HD / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) Math.pow(10000, -2.0 * i / HD);
        Tensor invFreq = Tensor.of(inv, inv.length);

        Device sim = SimulatedDevice.INSTANCE.device();
        Map<String, Variable> onCpu = new LinkedHashMap<>(), onSim = new LinkedHashMap<>();
        w.forEach((name, t) -> {
            onCpu.put(name, Variable.parameter(t.copy()).named(name));
            onSim.put(name, Variable.parameter(t.to(sim)).named(name));
        });
        float cpuLoss = step(onCpu, ids, positions, invFreq, targets);
        float simLoss = step(onSim, ids, positions, invFreq, targets);
        assertEquals(Float.floatToIntBits(cpuLoss), Float.floatToIntBits(simLoss), "loss " + cpuLoss + " vs " + simLoss);
        Map<String, Tensor> simBuffers = new LinkedHashMap<>();
        for (String name : w.keySet()) {
            Tensor g = onSim.get(name).grad();
            assertSame(sim, g.device(), name + ": the gradient buffer lives on the parameter's device");
            assertArrayEquals(onCpu.get(name).grad().toFloatArray(), g.toFloatArray(), name + " gradient");
            simBuffers.put(name, g);
        }
        // a second step reuses every gradient buffer
        for (Variable p : onSim.values()) p.zeroGrad();
        step(onSim, ids, positions, invFreq, targets);
        for (String name : w.keySet()) assertSame(simBuffers.get(name), onSim.get(name).grad(), name + " buffer reused");
    }
}
