package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * `jtune bench backward`: one training step (forward + backward, no optimizer step) of a
 * stories15M-shaped Llama ({@link TrainingShape#stories15M()}: dim 288, 6 layers, 6 heads, hidden
 * 768, vocab 32000, untied head, every weight trainable) at batch 4 × 256, with and without
 * per-layer gradient checkpointing, at 1 and 2 threads, beside the PyTorch peer
 * (bench/peers/torch_llama_step.py, same shape, threads and checkpointing) in the same run.
 *
 * <p>Each configuration runs in a fresh child JVM ({@link BackwardStep}, with this JVM's flags and
 * class path), so that its peak resident set (VmHWM of /proc/self/status, read at the end) is its
 * own; the peer reports ru_maxrss of its own process, the same quantity. Step time is the median
 * over the timed steps after warm-up. Beside the peak: the bytes an ideal implementation needs
 * ({@link TrainingShape#idealBytes}). One JSON line per configuration:
 * <pre>
 * {"bench":"backward","threads":1,"checkpointing":false,"step_s":..,"tokens_per_s":..,"peak_rss_bytes":..,
 *  "ideal_bytes":..,"peak_over_ideal":..,"peer":"pytorch","peer_step_s":..,"peer_peak_rss_bytes":..,
 *  "ratio":..,"time_ratio":..}
 * </pre>
 * {@code ratio} = {@code time_ratio} = our step time ÷ the peer's: lower is better, below 1 we are
 * faster. Without /usr/bin/python3 and torch, {@code "peer":"absent"} and no peer fields.
 * System properties: jtune.bench.steps (timed steps, default 5), jtune.bench.warmup (default 2),
 * jtune.python (default /usr/bin/python3), jtune.bench.threads (default "1,2").
 */
public final class BackwardBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BackwardBench() {}

    public static int run(boolean json) throws Exception {
        TrainingShape shape = TrainingShape.stories15M();
        int steps = Integer.getInteger("jtune.bench.steps", 5), warmup = Integer.getInteger("jtune.bench.warmup", 2);
        Path peer = TorchPeer.script();
        String python = System.getProperty("jtune.python", "/usr/bin/python3");
        boolean peerPresent = peer != null && TorchPeer.hasTorch(python);
        if (!peerPresent) System.err.println("backward: PyTorch peer absent (" + (peer == null ? "bench/peers/torch_llama_step.py not found"
                : python + " cannot import torch") + ")");
        if (peerPresent) TorchPeer.warnOnSlowBlas(python);
        System.err.printf("backward: %s, batch %d × %d, %d warm-up + %d timed steps; load: %s%n", shape, shape.batch(), shape.seq(),
                warmup, steps, loadAverage());
        for (String th : System.getProperty("jtune.bench.threads", "1,2").split(",")) {
            int threads = Integer.parseInt(th.trim());
            for (boolean ckpt : new boolean[] {false, true}) {
                JsonNode ours = child(threads, ckpt, warmup, steps);
                Map<String, Object> r = new LinkedHashMap<>();
                double stepS = ours.get("step_s").asDouble();
                long peak = ours.get("peak_rss_bytes").asLong(), ideal = shape.idealBytes(ckpt);
                r.put("bench", "backward");
                r.put("threads", threads);
                r.put("checkpointing", ckpt);
                r.put("step_s", stepS);
                r.put("tokens_per_s", shape.tokens() / stepS);
                r.put("peak_rss_bytes", peak);
                r.put("ideal_bytes", ideal);
                r.put("peak_over_ideal", (double) peak / ideal);
                r.put("rss_before_model_bytes", ours.get("rss_before_model_bytes").asLong());
                r.put("loss", ours.get("loss").asDouble());
                if (peerPresent) {
                    JsonNode p = TorchPeer.run(python, peer, shape, threads, ckpt, warmup, steps);
                    double peerS = p.get("step_s").asDouble();
                    r.put("peer", "pytorch");
                    r.put("peer_step_s", peerS);
                    r.put("peer_peak_rss_bytes", p.get("peak_rss_bytes").asLong());
                    r.put("peer_peak_over_ideal", p.get("peak_rss_bytes").asDouble() / ideal);
                    r.put("peer_loss", p.get("loss").asDouble());
                    r.put("ratio", stepS / peerS);
                    r.put("time_ratio", stepS / peerS);
                } else {
                    r.put("peer", "absent");
                }
                if (json) System.out.println(JSON.writeValueAsString(r));
                System.err.printf("backward threads=%d checkpointing=%-5s  %.3f s/step (%.0f tok/s), peak RSS %.0f MiB = %.2f × ideal %.0f MiB%s%n",
                        threads, ckpt, stepS, shape.tokens() / stepS, peak / 1048576.0, (double) peak / ideal, ideal / 1048576.0,
                        peerPresent ? String.format("; PyTorch %.3f s/step, peak %.0f MiB; time ratio %.2f (lower is better)",
                                (double) r.get("peer_step_s"), (long) r.get("peer_peak_rss_bytes") / 1048576.0, (double) r.get("time_ratio")) : "");
            }
        }
        return 0;
    }

    /** Runs one configuration in a fresh JVM with this JVM's flags and class path; its JSON result. */
    private static JsonNode child(int threads, boolean ckpt, int warmup, int steps) throws IOException, InterruptedException {
        List<String> cmd = ChildJvm.command(BackwardStep.class, List.of("" + threads, "" + ckpt, "" + warmup, "" + steps));
        return runJson(cmd, "BackwardStep threads=" + threads + " checkpointing=" + ckpt);
    }

    /** Runs a command whose last stdout line is a JSON object; stderr passes through (filtered of the JDK's incubator notice). */
    static JsonNode runJson(List<String> cmd, String what) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jtune-bench", ".out"), err = Files.createTempFile("jtune-bench", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(what + ": no result after 30 minutes");
            }
            for (String line : Files.readAllLines(err, StandardCharsets.UTF_8)) {
                if (!line.contains("Using incubator modules")) System.err.println("  " + line);
            }
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || lines.isEmpty()) throw new IOException(what + " failed with exit code " + p.exitValue());
            return JSON.readTree(lines.getLast());
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
