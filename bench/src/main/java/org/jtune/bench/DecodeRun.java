package org.jtune.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.weights.ServingLayout;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.weights.Weight;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.tensor.Rng;

/**
 * jtune's side of `jtune bench decode`, run in a JVM of its own like its peers (and like a user's `jtune generate`): loads
 * the model at PATH (a Hugging Face folder or a GGUF file; {@code -Djtune.mlock=true} locks it), prefills a prompt of
 * random ids and decodes greedily; one warm-up generation, then several timed ones; then the copy and read bandwidths of
 * {@link DecodeBenchmark} (BW_BYTES copied, twice that read), after the decode so that their loops' compilation and type
 * profiles cannot touch it. Prints one JSON object: the median prefill seconds, the median seconds per decode step (first
 * to last token callback), major page faults per generated token, the bytes all threads allocated per decode step (a
 * kernel whose vectors C2 boxed shows here first: 46 MB per token of a BF16 1.1B model after a short prompt, until the
 * one-row GEMV loops got methods of their own), the two bandwidths, and the read bandwidth of the model's own F32/BF16
 * weights ({@link ModelReadBandwidth}; 0 for a quantized model) (bytes per second); and the prefill's floating-point
 * work in its projections ({@link #prefillFlops}) beside this process's F32 FMA rate ({@link FmaPeak}).
 * Why a process of its own: run in the benchmark's process right after it wrote and exported the model, the same code
 * decoded a 1.1B-shaped Q4_0 file at 10–15 tok/s, and at 19–22 in a fresh process on that file (bench/RESULTS.md,
 * 2026-12-05). Usage: {@code DecodeRun PATH VOCAB PROMPT DECODE RUNS BW_BYTES}.
 */
public final class DecodeRun {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    private DecodeRun() {}

    /** The KV cache's type, {@code -Djtune.bench.decode.kvType=auto|f32|bf16|f16} (`--kv-type`; default auto, as jtune generate). */
    private static final String KV_TYPE = System.getProperty("jtune.bench.decode.kvType", "auto");

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int vocab = Integer.parseInt(args[1]), prompt = Integer.parseInt(args[2]), decode = Integer.parseInt(args[3]),
                runs = Integer.parseInt(args[4]);
        long bandwidthBytes = Long.parseLong(args[5]);
        double[] prefill = new double[runs], step = new double[runs];
        long faults0;
        int decoded = 0, steps = 0;
        long allocated = 0;
        double[] modelRead;
        double flops;
        String kvType;
        try (CausalLM model = Architectures.load(path)) {
            flops = prefillFlops(model, prompt);
            ServingLayout.packProjections(model.weights());   // as jtune generate and serve load it (-Djtune.rowGroups=false: not)
            model.setKvCacheType(org.jtune.models.kv.KvCacheType.orAuto(org.jtune.models.kv.KvCacheType.parse(KV_TYPE), model.config(), null));
            kvType = model.kvCacheType().name();
            Rng rng = new Rng(3);
            int[] ids = new int[prompt];
            for (int i = 0; i < prompt; i++) ids[i] = 3 + rng.nextInt(vocab - 3);
            // warm-up with decode steps too: the GEMV's loops are not hot after the prefill alone, and a run timed before C2
            // compiles them measures profiled C1 code
            Generator.generate(model, List.of(ids), SamplingConfig.greedy(Math.min(decode, 8) + 1), null, null);
            faults0 = PageFaults.major();
            SamplingConfig cfg = SamplingConfig.greedy(decode + 1);
            for (int r = 0; r < runs; r++) {
                List<Long> times = new ArrayList<>();
                long[] heap = new long[2];
                long before = THREADS.getTotalThreadAllocatedBytes(), t0 = System.nanoTime();
                Generator.generate(model, List.of(ids), cfg, null, (s, id) -> {
                    times.add(System.nanoTime());
                    heap[times.size() == 1 ? 0 : 1] = THREADS.getTotalThreadAllocatedBytes();
                });
                prefill[r] = (times.getFirst() - t0) / 1e9;
                // each prefill on stderr: a run at half speed (three bench decode rows in 2026-12 at 1024 tokens) shows whether it allocated more
                System.err.printf("DecodeRun: prefill %d of %d tokens %.2f s, allocated %.0f MB%n", r, prompt, prefill[r], (heap[0] - before) / 1e6);
                step[r] = (times.getLast() - times.getFirst()) / 1e9 / (times.size() - 1);
                decoded += times.size();
                allocated += heap[1] - heap[0];
                steps += times.size() - 1;
            }
            modelRead = ModelReadBandwidth.measure(model);
        }
        double faultsPerToken = (PageFaults.major() - faults0) / (double) Math.max(1, decoded);
        double copy = DecodeBenchmark.copyBandwidth(bandwidthBytes), read = DecodeBenchmark.readBandwidth(2 * bandwidthBytes);
        double fma = FmaPeak.flopsPerSecond();
        System.out.printf("{\"kv_type\":\"%s\",\"prefill_s\":%.6f,\"step_s\":%.6f,\"major_faults_per_token\":%.3f,\"alloc_bytes_per_token\":%.0f,"
                + "\"copy_bytes_per_s\":%.6e,\"read_bytes_per_s\":%.6e,\"model_read_bytes_per_s\":%.6e,\"prefill_flops\":%.6e,"
                + "\"fma_flops_per_s\":%.6e}%n", kvType, Timing.median(prefill), Timing.median(step), faultsPerToken,
                allocated / (double) Math.max(1, steps), copy, read, modelRead[0], flops, fma);
    }

    /**
     * 2·rows·cols per prompt token for every projection (Weight.Role.LINEAR; a mixture's experts for k / E of them), and once for the output head (lm_head.weight,
     * or the tied embedding) as a prefill needs the last position's logits only: a lower bound on the prefill's work.
     */
    static double prefillFlops(CausalLM model, int prompt) {
        double flops = 0, embedding = 0;
        boolean head = false;
        for (Weight w : model.weights().all()) {
            int[] s = w.shape();
            if (s.length != 2) continue;
            double once = 2.0 * s[0] * s[1];
            if (w.name().equals("lm_head.weight")) {
                head = true;
                flops += once;
            } else if (w.role() == Weight.Role.LINEAR) {
                MoeConfig moe = model.config().moe();
                // a mixture's expert sees k / E of the tokens
                flops += moe != null && MoeConfig.expertWeight(w.name()) ? once * prompt * moe.expertsPerToken() / moe.numExperts() : once * prompt;
            } else if (w.role() == Weight.Role.EMBEDDING) {
                embedding += once;
            }
        }
        return head ? flops : flops + embedding;
    }

}
