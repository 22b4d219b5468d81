package org.jtune.serve.monitor;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jtune.JtuneException;

/** Sends an alert's JSON to a webhook (an HTTP POST, application/json) and says whether it was taken (2xx). */
public final class AlertPost {
    private AlertPost() {}

    public static void send(String url, String json) throws JtuneException {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new JtuneException("--alert-url " + url + ": not a URL", e);
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new JtuneException("--alert-url " + url + ": only http:// and https:// URLs");
        }
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) throw new JtuneException("--alert-url " + url + " answered HTTP " + r.statusCode());
        } catch (java.io.IOException e) {
            throw new JtuneException("--alert-url " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JtuneException("--alert-url " + url + ": interrupted", e);
        }
    }
}
