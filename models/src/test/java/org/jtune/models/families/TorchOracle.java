package org.jtune.models.families;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The independent PyTorch reference (bench/peers/families/families_reference.py) run on a checkpoint
 * folder, when Debian's python3-torch is installed: its greedy ids, full logits, loss and every
 * gradient, in float64. Tests skip the live comparison when it is absent.
 */
final class TorchOracle {
    static final String SCRIPT = "bench/peers/families/families_reference.py";
    static final String PYTHON = System.getProperty("jtune.python", "/usr/bin/python3");

    private TorchOracle() {}

    /** The script, found by walking up from the working directory (the module folder under Maven), or null. */
    static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve(SCRIPT);
            if (Files.isRegularFile(s)) return s;
        }
        return null;
    }

    /** Why the oracle cannot run here, or null when it can. */
    static String unavailable() {
        if (script() == null) return SCRIPT + " not found above " + Path.of("").toAbsolutePath();
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return PYTHON + " did not import torch within 2 minutes";
            }
            return p.exitValue() == 0 ? null : PYTHON + " cannot import torch (install it: apt-get install -y python3-torch)";
        } catch (IOException e) {
            return PYTHON + " does not run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static JsonNode run(Path checkpoint, Path work) throws IOException, InterruptedException {
        Path out = work.resolve("torch-reference.json");
        Process p = new ProcessBuilder(PYTHON, script().toString(), "reference", checkpoint.toString(), "--json", out.toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("torch-reference.log").toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("the torch reference did not finish within 10 minutes");
        }
        if (p.exitValue() != 0) throw new IOException("the torch reference failed:\n" + Files.readString(work.resolve("torch-reference.log")));
        return new ObjectMapper().readTree(out.toFile());
    }
}
