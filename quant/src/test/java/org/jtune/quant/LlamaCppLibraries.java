package org.jtune.quant;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the prebuilt llama.cpp CPU libraries that the npm package node-llama-cpp installs under
 * bench/peers/llamacpp (libggml-base.so holds ggml's reference quantizers, libllama.so the model
 * quantizer). Tests that use them skip, saying how to install them, when they are absent; with CI=true
 * and jtune.requirePeers=true they fail instead. -Djtune.llamacpp.lib=DIR points elsewhere.
 */
public final class LlamaCppLibraries {
    public static final String INSTALL = "install the llama.cpp peer with: (cd bench/peers/llamacpp && npm install --omit=optional)";

    private LlamaCppLibraries() {}

    /** The folder holding libggml-base.so and libllama*.so, or null. */
    public static Path find() {
        String override = System.getProperty("jtune.llamacpp.lib");
        if (override != null && !override.isBlank()) return Path.of(override);
        Path dir = Path.of("").toAbsolutePath();
        for (int up = 0; up < 4 && dir != null; up++, dir = dir.getParent()) {
            Path bins = dir.resolve("bench/peers/llamacpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");
            if (Files.isRegularFile(bins.resolve("libggml-base.so"))) return bins;
        }
        return null;
    }

    /** The folder, or skips the calling test with the install command. */
    public static Path require() {
        Path dir = find();
        boolean mustExist = Boolean.getBoolean("jtune.requirePeers");
        if (dir == null && mustExist) throw new AssertionError("llama.cpp peer missing; " + INSTALL);
        assumeTrue(dir != null, "skipped: llama.cpp libraries not found; " + INSTALL);
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux")
                && System.getProperty("os.arch").matches("amd64|x86_64"), "skipped: the llama.cpp peer ships linux-x64 binaries");
        return dir;
    }
}
