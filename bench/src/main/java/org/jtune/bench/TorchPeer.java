package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch peer of the training-step benchmarks: bench/peers/torch_llama_step.py run with a
 * given Python. The script is found from the working directory or from where this class was loaded
 * (target/classes or a jar under the repository), walking up to the repository root.
 */
final class TorchPeer {
    static final String SCRIPT = "bench/peers/torch_llama_step.py";

    private TorchPeer() {}

    /** The peer script, or null when no enclosing folder holds it. */
    static Path script() {
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            starts.add(Path.of(TorchPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // fall back to the working directory alone
        }
        for (Path start : starts) {
            for (Path d = start; d != null; d = d.getParent()) {
                Path s = d.resolve(SCRIPT);
                if (Files.isRegularFile(s)) return s;
            }
        }
        return null;
    }

    /** True when {@code python} runs and imports torch. */
    static boolean hasTorch(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Prints a warning to stderr when the peer's matrix products run on a reference BLAS. Debian's python3-torch calls whatever
     * the libblas.so.3 alternative names; with only libblas3 installed that is the reference BLAS (~6 GFLOP/s here against
     * ~120 with libopenblas0-pthread, 2026-12-05), and a 1.1B step of the peer then takes over half an hour: a comparison
     * against that would flatter us.
     */
    static void warnOnSlowBlas(String python) {
        String probe = "import torch,time\na=torch.randn(256,1024);b=torch.randn(1024,1024)\nbest=1e9\n"
                + "for i in range(5):\n  t=time.time();a@b;best=min(best,time.time()-t)\nprint(2*256*1024*1024/best/1e9)";
        try {
            Process p = new ProcessBuilder(python, "-c", probe).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) return;
            double gflops = Double.parseDouble(out.substring(out.lastIndexOf('\n') + 1));
            if (gflops < 30) {
                System.err.printf("WARNING: PyTorch multiplies matrices at %.1f GFLOP/s here (a reference BLAS): its figures understate it;"
                        + " install an optimised BLAS for it (Debian: apt-get install libopenblas0-pthread)%n", gflops);
            }
        } catch (IOException | RuntimeException e) {
            // no warning: the probe itself could not run
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One peer run: its JSON object (step_s, tokens_per_s, peak_rss_bytes, loss, ...). */
    static JsonNode run(String python, Path script, TrainingShape shape, int threads, boolean checkpointing, int warmup, int steps)
            throws IOException, InterruptedException {
        return run(python, script, shape, threads, checkpointing, warmup, steps, List.of());
    }

    /** A peer run with extra arguments (--lora R --lora-targets q,k,v,o, --optimizer). */
    static JsonNode run(String python, Path script, TrainingShape shape, int threads, boolean checkpointing, int warmup, int steps,
                        List<String> extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(shape.peerArgs());
        cmd.addAll(List.of("--threads", "" + threads, "--warmup", "" + warmup, "--steps", "" + steps));
        if (checkpointing) cmd.add("--checkpointing");
        cmd.addAll(extra);
        return BackwardBench.runJson(cmd, "PyTorch peer threads=" + threads + " checkpointing=" + checkpointing);
    }
}
