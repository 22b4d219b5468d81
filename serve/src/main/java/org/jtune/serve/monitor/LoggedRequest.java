package org.jtune.serve.monitor;

/**
 * One row of the request log's {@code requests} table (serve/src/main/resources/org/jtune/serve/log/schema.sql);
 * numbers the server did not record are null.
 */
public record LoggedRequest(String id, String createdAt, String endpoint, String model, String adapter, String modelVersion,
                            String requestJson, String promptText, String outputText, Integer promptTokens, Integer completionTokens,
                            Double ttftMs, Double latencyMs, String finishReason, int status, String error) {

    /** Failed on the server's side: a 5xx status or generation ended in an error. */
    public boolean isError() {
        return status >= 500 || "error".equals(finishReason);
    }

    /**
     * Refused before generating: a 4xx status (bad request, auth, unknown model, too large, queue full).
     * 499 is not a refusal: the server logs it when the client went away before a non-streamed answer
     * (finish_reason "cancelled").
     */
    public boolean isRejected() {
        return status >= 400 && status < 500 && status != 499;
    }

    public boolean ok() {
        return status >= 200 && status < 300;
    }
}
