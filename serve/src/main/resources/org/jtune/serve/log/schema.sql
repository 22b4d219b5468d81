-- The request log written by `jtune serve` and read by `jtune monitor`, `jtune data from-feedback`
-- and the dashboard. One statement per blank-line-separated block; portable between SQLite (the
-- embedded default) and PostgreSQL (by JDBC URL). Times are ISO-8601 UTC text
-- (2026-12-04T06:00:00.123Z) so both databases sort and compare them the same way.

CREATE TABLE IF NOT EXISTS requests (
    id                TEXT PRIMARY KEY,      -- the response id returned to the client (chatcmpl-..., cmpl-...)
    created_at        TEXT NOT NULL,         -- when the request arrived
    endpoint          TEXT NOT NULL,         -- /v1/chat/completions or /v1/completions
    model             TEXT NOT NULL,         -- the "model" field as the client sent it
    adapter           TEXT,                  -- the adapter that answered, NULL for the base model
    model_version     TEXT,                  -- registry name:version that answered, NULL outside a registry
    request_json      TEXT NOT NULL,         -- the request body as received (API key never stored)
    prompt_text       TEXT,                  -- the prompt as rendered for the model (chat template applied)
    output_text       TEXT,                  -- the generated text (NULL when the request failed before generating)
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    ttft_ms           DOUBLE PRECISION,      -- time to first token
    latency_ms        DOUBLE PRECISION,      -- arrival to last byte
    finish_reason     TEXT,                  -- stop, length, cancelled (client went away), error
    status            INTEGER NOT NULL,      -- HTTP status returned
    error             TEXT                   -- OpenAI-style error message for status >= 400
);

CREATE INDEX IF NOT EXISTS requests_created_at ON requests (created_at);

CREATE TABLE IF NOT EXISTS feedback (
    id          TEXT PRIMARY KEY,            -- fb-<uuid>
    request_id  TEXT NOT NULL,               -- requests.id the feedback is about
    created_at  TEXT NOT NULL,
    rating      DOUBLE PRECISION,            -- as the client sent it (e.g. 1 / -1, or 1..5)
    correction  TEXT,                        -- the answer the user says was right, if given
    comment     TEXT
);

CREATE INDEX IF NOT EXISTS feedback_request ON feedback (request_id);
