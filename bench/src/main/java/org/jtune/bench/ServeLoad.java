package org.jtune.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

/**
 * The client side of `jtune bench serve`: real HTTP against an OpenAI-compatible server, as an
 * application drives it. {@link #run} keeps {@code concurrency} streams busy: each worker takes the next
 * prompt, POSTs a streamed /v1/completions request (the prompt as token ids, so that both engines of a
 * comparison see the same ids) and reads its server-sent events as they arrive; time to first token is
 * from sending the request to the first chunk with text, inter-token latency the gaps between chunks,
 * and the tokens are the usage the server reports. {@link #drop} opens a stream on a raw socket and
 * closes it after a few events (a client that goes away mid-answer).
 */
final class ServeLoad {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one load level measured. */
    record Level(int concurrency, int requests, long tokens, double wallSeconds, double[] ttftMs, double[] itlMs, List<String> failures) {
        double tokensPerSecond() {
            return tokens / wallSeconds;
        }
    }

    /** One request of a level: prompt ids, the served model name, max tokens, sampling. */
    record Request(String model, int[] prompt, int maxTokens, double temperature, double topP, long seed) {
        String json(boolean stream) {
            StringBuilder ids = new StringBuilder();
            for (int id : prompt) ids.append(ids.isEmpty() ? "" : ",").append(id);
            return "{\"model\":\"" + model + "\",\"prompt\":[" + ids + "],\"max_tokens\":" + maxTokens + ",\"temperature\":" + temperature
                    + ",\"top_p\":" + topP + ",\"seed\":" + seed + ",\"stream\":" + stream
                    + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
        }
    }

    private final URI base;
    private final HttpClient http;

    ServeLoad(String baseUrl) {
        this.base = URI.create(baseUrl);
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Runs the requests, {@code concurrency} at a time, streamed; each failure is described in the result. */
    Level run(List<Request> requests, int concurrency) throws InterruptedException {
        ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>(requests);
        List<Double> ttft = Collections.synchronizedList(new ArrayList<>()), itl = Collections.synchronizedList(new ArrayList<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        long[] tokens = new long[concurrency];
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < concurrency; w++) {
            int slot = w;
            workers.add(Thread.ofVirtual().start(() -> {
                for (Request r; (r = queue.poll()) != null; ) tokens[slot] += stream(r, ttft, itl, failures);
            }));
        }
        for (Thread t : workers) t.join();
        double wall = (System.nanoTime() - t0) / 1e9;
        return new Level(concurrency, requests.size(), Arrays.stream(tokens).sum(), wall, sorted(ttft), sorted(itl), List.copyOf(failures));
    }

    /** One streamed request; returns its completion tokens (0 on failure, which is recorded). */
    private long stream(Request r, List<Double> ttft, List<Double> itl, List<String> failures) {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/completions")).header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(30)).POST(HttpRequest.BodyPublishers.ofString(r.json(true))).build();
        long sent = System.nanoTime(), last = 0;
        long tokens = -1;
        boolean done = false;
        try {
            HttpResponse<Stream<String>> resp = http.send(req, HttpResponse.BodyHandlers.ofLines());
            if (resp.statusCode() != 200) {
                failures.add("HTTP " + resp.statusCode() + ": " + String.join("\n", resp.body().toList()));
                return 0;
            }
            List<Double> gaps = new ArrayList<>();
            double first = -1;
            for (var it = resp.body().iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ")) continue;
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    break;
                }
                JsonNode chunk = JSON.readTree(data);
                if (chunk.has("error")) throw new IllegalStateException("error event: " + data);
                if (chunk.hasNonNull("usage")) tokens = chunk.get("usage").get("completion_tokens").asLong();
                JsonNode choices = chunk.path("choices");
                if (choices.isEmpty() || choices.get(0).path("text").asText().isEmpty()) continue;
                long now = System.nanoTime();
                if (first < 0) first = (now - sent) / 1e6;
                else gaps.add((now - last) / 1e6);
                last = now;
            }
            if (!done || tokens < 0) {
                failures.add("stream ended without " + (done ? "usage" : "[DONE]"));
                return 0;
            }
            if (first >= 0) ttft.add(first);
            itl.addAll(gaps);
            return tokens;
        } catch (Exception e) {
            failures.add(e.toString());
            return 0;
        }
    }

    /** A whole (not streamed) request: its status and body. */
    HttpResponse<String> whole(Request r) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/completions")).header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(30)).POST(HttpRequest.BodyPublishers.ofString(r.json(false))).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** Opens a streamed request on a raw socket, reads {@code events} SSE events, then closes the connection. */
    void drop(Request r, int events) throws Exception {
        byte[] body = r.json(true).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: " + base.getHost() + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int seen = 0;
            for (String line; seen < events && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) seen++;
            if (seen < events) throw new IllegalStateException("the stream ended after " + seen + " of " + events + " events");
        }
    }

    /** GET a path (the metrics): the body. */
    String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of a Prometheus metric's samples whose label text contains {@code labels} (all samples when empty). */
    static double metric(String scrape, String name, String labels) {
        double sum = 0;
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name)) continue;
            String rest = line.substring(name.length());
            if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
            if (!labels.isEmpty() && !rest.contains(labels)) continue;
            sum += Double.parseDouble(rest.substring(rest.lastIndexOf(' ') + 1));
        }
        return sum;
    }

    static double[] sorted(List<Double> values) {
        double[] a;
        synchronized (values) {
            a = values.stream().mapToDouble(Double::doubleValue).toArray();
        }
        Arrays.sort(a);
        return a;
    }

    /** Nearest-rank percentile of sorted values (NaN when there are none). */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }
}
