package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs bench/peers/llamacpp/llamacpp.mjs (llama.cpp through node-llama-cpp) on a GGUF file with a batch
 * of JSON requests and returns its JSON answers. Tests skip with the install command when node or the
 * npm package is missing.
 */
final class LlamaCppPeer {
    static final String INSTALL = "install the llama.cpp peer with: (cd bench/peers/llamacpp && npm install --omit=optional)";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LlamaCppPeer() {}

    /** The peer's folder, or skips the test. */
    static Path require() {
        Path dir = Path.of("").toAbsolutePath();
        Path found = null;
        for (int up = 0; up < 4 && dir != null; up++, dir = dir.getParent()) {
            Path p = dir.resolve("bench/peers/llamacpp");
            if (Files.isRegularFile(p.resolve("node_modules/node-llama-cpp/package.json"))) {
                found = p;
                break;
            }
        }
        assumeTrue(found != null, "skipped: node-llama-cpp not installed; " + INSTALL);
        assumeTrue(nodeWorks(), "skipped: no node on PATH (Node.js 20+ runs the llama.cpp peer)");
        return found;
    }

    private static boolean nodeWorks() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Sends the requests (JSON objects) and returns one answer per request. */
    static List<JsonNode> ask(Path peer, Path gguf, List<? extends Object> requests) throws Exception {
        return ask(peer, gguf, requests, false);
    }

    /** With vocabOnly, llama.cpp loads only the tokenizer (files without weights). */
    static List<JsonNode> ask(Path peer, Path gguf, List<? extends Object> requests, boolean vocabOnly) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("node", peer.resolve("llamacpp.mjs").toString(), gguf.toString()));
        if (vocabOnly) cmd.add("--vocab-only");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            try (Writer w = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
                for (Object r : requests) w.write(JSON.writeValueAsString(r) + "\n");
            }
            List<JsonNode> out = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) out.add(JSON.readTree(line));
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) throw new AssertionError("llama.cpp peer did not finish");
            if (out.size() != requests.size()) throw new AssertionError("llama.cpp peer answered " + out + " (exit " + p.exitValue() + ")");
            for (JsonNode a : out) if (a.has("error")) throw new AssertionError("llama.cpp: " + a.get("error").asText());
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    static int[] ids(JsonNode answer) {
        JsonNode a = answer.get("ids");
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
