package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp beside `jtune bench serve`: bench/peers/llamacpp/serve_peer.mjs (node-llama-cpp's prebuilt CPU
 * binaries) on a GGUF export of the same folder, several sequences in one context, one job per load level.
 * Absent (null from {@link #start}) when node or the npm package is not installed here.
 */
final class LlamaCppServePeer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;
    final int threads;

    private LlamaCppServePeer(Process process, int threads) {
        this.process = process;
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.threads = threads;
    }

    /** The peer script's folder in this checkout, or null. */
    static Path folder() {
        String home = System.getProperty("jtune.home");
        Path dir = home == null ? null : Path.of(home, "bench", "peers", "llamacpp");
        if (dir != null && Files.isDirectory(dir.resolve("node_modules").resolve("node-llama-cpp"))) return dir;
        Path here = Path.of("").toAbsolutePath(); // tests and `mvn exec` run from a module folder of the checkout
        for (int up = 0; up < 3 && here != null; up++, here = here.getParent()) {
            Path p = here.resolve("bench/peers/llamacpp");
            if (Files.isDirectory(p.resolve("node_modules").resolve("node-llama-cpp"))) return p;
        }
        return null;
    }

    /**
     * Starts the peer on {@code gguf}; its stderr goes to {@code log}. Threads: LLAMACPP_THREADS, else 1 (on a
     * busy machine llama.cpp's spinning worker threads are slower with 2; see llamacpp.mjs).
     */
    static LlamaCppServePeer start(Path gguf, Path log) throws Exception {
        String env = System.getenv("LLAMACPP_THREADS");
        return start(gguf, log, env == null || env.isBlank() ? 1 : Integer.parseInt(env.trim()));
    }

    /** Starts the peer on {@code gguf} (flushed and dropped from the page cache first) with this many threads; null when the peer is not installed. */
    static LlamaCppServePeer start(Path gguf, Path log, int threads) throws Exception {
        Path dir = folder();
        if (dir == null) return null;
        SettledFiles.settle(gguf); // mapped as a model downloaded earlier, as jtune's side is (SettledFiles)
        ProcessBuilder pb = new ProcessBuilder("node", dir.resolve("serve_peer.mjs").toString(), gguf.toString())
                .redirectError(ProcessBuilder.Redirect.to(log.toFile()));
        // the weights locked in RAM on both sides when jtune locks its own (-Djtune.mlock=true)
        if (org.jtune.tensor.ResidentMemory.locking()) pb.environment().put("LLAMACPP_MLOCK", "1");
        Process p = pb.start();
        return new LlamaCppServePeer(p, threads);
    }

    /** One load level on the peer; the same prompts, concurrency, token count and sampling as ours. */
    ServeLoad.Level run(List<ServeLoad.Request> requests, int concurrency) throws Exception {
        ObjectNode job = JSON.createObjectNode().put("concurrency", concurrency).put("max_tokens", requests.getFirst().maxTokens())
                .put("temperature", requests.getFirst().temperature()).put("top_p", requests.getFirst().topP()).put("threads", threads);
        ArrayNode prompts = job.putArray("prompts");
        for (ServeLoad.Request r : requests) {
            ArrayNode ids = prompts.addArray();
            for (int id : r.prompt()) ids.add(id);
        }
        in.write(job.toString());
        in.newLine();
        in.flush();
        String line = out.readLine();
        if (line == null) throw new IllegalStateException("the llama.cpp peer exited (exit " + (process.isAlive() ? "?" : process.exitValue()) + ")");
        JsonNode r = JSON.readTree(line);
        if (r.has("error")) throw new IllegalStateException("llama.cpp peer: " + r.get("error").asText());
        return new ServeLoad.Level(concurrency, r.get("requests").asInt(), r.get("tokens").asLong(), r.get("wall_s").asDouble(),
                values(r.get("ttft_ms")), values(r.get("itl_ms")), List.of());
    }

    private static double[] values(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        java.util.Arrays.sort(v);
        return v;
    }

    @Override
    public void close() throws Exception {
        in.close();
        if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
