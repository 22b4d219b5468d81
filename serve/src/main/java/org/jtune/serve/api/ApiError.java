package org.jtune.serve.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answer in OpenAI's shape: HTTP status and
 * {@code {"error": {"message", "type", "param", "code"}}}. Thrown by request parsing and
 * validation; the HTTP layer writes it. Bad input is always a 4xx with a message that says what was
 * wrong and what is allowed.
 */
public final class ApiError extends Exception {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiError(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a parameter is missing, of the wrong type, or out of range. */
    public static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null);
    }

    /** 400 with a machine-readable code (context_length_exceeded, unsupported_parameter, ...). */
    public static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, "invalid_request_error", message, param, code);
    }

    public static ApiError missingKey() {
        return new ApiError(401, "invalid_request_error",
                "You didn't provide an API key. Send it as an 'Authorization: Bearer KEY' header.", null, "missing_api_key");
    }

    public static ApiError wrongKey() {
        return new ApiError(401, "invalid_request_error", "Incorrect API key provided.", null, "invalid_api_key");
    }

    public static ApiError unknownModel(String model, Iterable<String> served) {
        return new ApiError(404, "invalid_request_error", "The model `" + model + "` does not exist. Served models: "
                + String.join(", ", served) + ".", "model", "model_not_found");
    }

    public static ApiError notFound(String message, String param) {
        return new ApiError(404, "invalid_request_error", message, param, "not_found");
    }

    public static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "The request body is larger than the server's limit of " + limit
                + " bytes (--max-body-bytes).", null, "request_too_large");
    }

    public static ApiError queueFull(String message) {
        return new ApiError(429, "requests", message, null, "rate_limit_exceeded");
    }

    public static ApiError unavailable(String message) {
        return new ApiError(503, "server_error", message, null, "service_unavailable");
    }

    public static ApiError methodNotAllowed(String method, String path) {
        return new ApiError(405, "invalid_request_error", method + " is not allowed on " + path, null, "method_not_allowed");
    }

    public static ApiError internal(String message) {
        return new ApiError(500, "server_error", message, null, null);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
