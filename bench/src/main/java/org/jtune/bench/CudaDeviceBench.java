package org.jtune.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.CrossEntropy;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.ModelDevice;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.StepBufferPool;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cuda.CudaBackend;
import org.jtune.train.optim.AdamW;
import org.jtune.train.optim.WeightDecayRule;

/**
 * The timings of bench/device/run.sh on a lent GPU, written as one JSON object to the file named by the
 * first argument: (1) square BF16 and F32 GEMMs through the backend (Ops.matmul) against cuBLAS called
 * directly; (2) a LoRA training step (r = 16 on q, k, v, o; AdamW) of a TinyLlama-1.1B-shaped model with
 * random BF16 weights at batch × seq tokens, with its model FLOPs utilisation against the H200's dense
 * BF16 peak (989 TFLOP/s, datasheet) and against the measured cuBLAS rate; (3) batch-1 greedy decode of
 * the same model: the weight bytes read per token over the step time, as a fraction of HBM bandwidth
 * (4.8 TB/s, datasheet). Steps (2) and (3) run with the backend's mixed-precision GEMM on (F32
 * activations rounded to BF16 at each product, as torch.autocast does) and, for the record, off.
 * A profiled decode and training step ({@link CudaBackend#profile}) say where the time goes: device-busy
 * against wall time, and the calls that take the most device time. Batch 4 × SEQ is timed besides batch 1.
 * Usage: {@code CudaDeviceBench OUT.json [SEQ] [DECODE_TOKENS]}.
 */
public final class CudaDeviceBench {
    static final double PEAK_BF16 = 989e12, HBM = 4.8e12;

    private CudaDeviceBench() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        int decodeTokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        CudaBackend cuda = (CudaBackend) Device.open("cuda:0").backend();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("device", cuda.name());
        r.put("gemm", gemm(cuda));
        write(out, r);
        TrainingShape shape = new TrainingShape(2048, 22, 32, 4, 5632, 32000, 1, seq);
        CausalLM model = tinyLlama(shape);
        ModelDevice.move(model, cuda.device());
        long weightBytes = model.weights().all().stream().mapToLong(w -> w.value().value().numel() * 2).sum();
        r.put("model", Map.of("shape", "TinyLlama-1.1B (dim 2048, 22 layers, 32/4 heads, ffn 5632, vocab 32000), random BF16 weights",
                "weight_bytes", weightBytes));
        Map<String, Object> decode = new LinkedHashMap<>();
        for (boolean mixed : new boolean[] {true, false}) {
            cuda.mixedPrecisionGemm(mixed);
            decode.put(mixed ? "mixed_precision" : "f32_products", decode(model, cuda, weightBytes, mixed ? decodeTokens : 8));
            r.put("decode_batch1", decode);
            write(out, r);
        }
        Map<String, Object> train = new LinkedHashMap<>();
        for (boolean mixed : new boolean[] {true, false}) {
            cuda.mixedPrecisionGemm(mixed);
            train.put(mixed ? "mixed_precision" : "f32_products", loraStep(model, shape, cuda, mixed ? 3 : 1));
            r.put("lora_step", train);
            write(out, r);
        }
        cuda.mixedPrecisionGemm(true);
        TrainingShape wide = new TrainingShape(2048, 22, 32, 4, 5632, 32000, 4, seq);
        train.put("mixed_precision_batch4", loraStep(model, wide, cuda, 2));
        write(out, r);
        System.out.println(Files.readString(out));
    }

    /** Rewrites the result after each part, so a run stopped by its time limit still reports what it measured. */
    private static void write(Path out, Map<String, Object> r) throws java.io.IOException {
        String json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r);
        Files.writeString(out, json);
        System.err.println("[bench] " + json.replaceAll("\\s+", " "));
    }

    static Map<String, Object> gemm(CudaBackend cuda) {
        Map<String, Object> g = new LinkedHashMap<>();
        int n = 8192;
        g.put("n", n);
        g.put("cublas_bf16_tflops", cuda.cublasTflops(n, DType.BF16, 10));
        g.put("cublas_f32_tflops", cuda.cublasTflops(4096, DType.F32, 5));
        for (DType t : new DType[] {DType.BF16, DType.F32}) {
            int m = t == DType.BF16 ? n : 4096;
            Tensor a = Ops.using(cuda, () -> Tensor.full(0.5f, m, m).to(t).to(cuda.device()));
            Tensor b = Ops.using(cuda, () -> Tensor.full(0.25f, m, m).to(t).to(cuda.device()));
            for (int i = 0; i < 3; i++) Ops.matmul(a, b);
            cuda.synchronize();
            int reps = t == DType.BF16 ? 10 : 5;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) Ops.matmul(a, b);
            cuda.synchronize();
            double s = (System.nanoTime() - t0) / 1e9;
            g.put("ops_matmul_" + t.name().toLowerCase() + "_tflops", 2.0 * m * m * (double) m * reps / s / 1e12);
        }
        g.put("bf16_fraction_of_cublas", (double) g.get("ops_matmul_bf16_tflops") / (double) g.get("cublas_bf16_tflops"));
        return g;
    }

    static CausalLM tinyLlama(TrainingShape shape) throws Exception {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : Architectures.randomWeights(shape.config(), new Rng(0), 0.02f).entrySet()) w.put(e.getKey(), e.getValue().to(DType.BF16));
        return Architectures.of(shape.config(), w);
    }

    static Map<String, Object> decode(CausalLM model, CudaBackend cuda, long weightBytes, int measured) throws Exception {
        int[] prompt = new int[16];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + i;
        Generator.generate(model, List.of(prompt), SamplingConfig.greedy(4), null, null); // warm-up
        long t0 = System.nanoTime();
        Generator.generate(model, List.of(prompt), SamplingConfig.greedy(1), null, null);
        double prefill = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        Generator.generate(model, List.of(prompt), SamplingConfig.greedy(1 + measured), null, null);
        double total = (System.nanoTime() - t0) / 1e9;
        double perToken = (total - prefill) / measured;
        Map<String, Object> d = new LinkedHashMap<>();
        cuda.profile(true);
        Generator.generate(model, List.of(prompt), SamplingConfig.greedy(9), null, null);
        d.put("profile_prefill_and_8_tokens", cuda.profileReport(12));
        cuda.profile(false);
        d.put("tokens_timed", measured);
        d.put("ms_per_token", perToken * 1e3);
        d.put("tokens_per_s", 1 / perToken);
        d.put("fraction_of_hbm", weightBytes / perToken / HBM);
        return d;
    }

    static Map<String, Object> loraStep(CausalLM model, TrainingShape shape, CudaBackend cuda, int steps) {
        Rng rng = new Rng(1);
        Map<String, Variable> trainable = LoraAdapters.attach(model, Adapters.DEFAULT,
                new LoraConfig(16, 32f, 0f, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false, List.of()), rng, false);
        List<Variable> params = new ArrayList<>(trainable.values());
        AdamW opt = new AdamW(WeightDecayRule.split(params, 0.0), AdamW.Config.TORCH_DEFAULTS);
        int n = shape.tokens(), t = shape.seq();
        int[] ids = new int[n], targets = new int[n], pos = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(shape.vocab());
            targets[i] = rng.nextInt(shape.vocab());
            pos[i] = i % t;
        }
        Tensor idT = Tensor.ofInts(ids, shape.batch(), t), posT = Tensor.ofInts(pos, shape.batch(), t), tgT = Tensor.ofInts(targets, n);
        ForwardPass pass = ForwardPass.of(AttentionMask.causalMask());
        double[] times = new double[steps];
        float loss = Float.NaN;
        // As FineTune runs a step: inside a step pool, so the device buffers of one step serve the next.
        StepBufferPool pool = new StepBufferPool();
        java.util.function.Supplier<Float> oneStep = () -> {
            Variable logits = model.logits(model.hidden(idT, posT, pass)).reshape(n, shape.vocab());
            Variable l = CrossEntropy.applyConsumingLogits(logits, tgT, -100, n);
            l.backward();
            opt.step(1e-4);
            opt.zeroGrad();
            return l.value().item();
        };
        for (int s = 0; s < 1 + steps; s++) {
            cuda.synchronize();
            long t0 = System.nanoTime();
            loss = pool.step(oneStep);
            if (s >= 1) times[s - 1] = (System.nanoTime() - t0) / 1e9;
        }
        cuda.profile(true);
        pool.step(oneStep);
        Map<String, Object> profile = cuda.profileReport(16);
        cuda.profile(false);
        model.adapters().remove(Adapters.DEFAULT);
        Arrays.sort(times);
        double step = times[times.length / 2];
        // Model FLOPs of a LoRA step: the frozen products forward and their input gradients (4 per weight per token),
        // attention scores and values (causal: half of 4·T·dim per token per layer forward, 3× that in all).
        long linear = (long) shape.layers() * ((long) shape.dim() * shape.dim() * 2 + (long) shape.dim() * (shape.dim() / 8) * 2
                + 3L * shape.dim() * shape.hidden()) + (long) shape.dim() * shape.vocab();
        double flops = 4.0 * linear * n + 3.0 * shape.layers() * 2.0 * t * shape.dim() * n;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", n);
        m.put("step_s", step);
        m.put("loss", loss);
        m.put("model_tflops", flops / step / 1e12);
        m.put("mfu_vs_989_tflops", flops / step / PEAK_BF16);
        m.put("profile_one_step", profile);
        return m;
    }
}
