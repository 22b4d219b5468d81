-- Registry schema, version 1. One statement per blank-line-separated block; {id} becomes the dialect's
-- generated row id. Times are ISO-8601 UTC text so SQLite and PostgreSQL sort them alike.

-- One row per model name; revision goes up by one on every change of the name's versions or stages,
-- so a change made on a stale read (two promotes at once) updates no row and is refused.
CREATE TABLE registry_models (
    name         TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    last_version INTEGER NOT NULL
);

-- Content-addressed artifacts: sha256 of the manifest (one "sha256 size path" line per file, sorted).
CREATE TABLE registry_artifacts (
    sha256      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,               -- adapter (PEFT) or model (Hugging Face folder)
    files       INTEGER NOT NULL,
    bytes       BIGINT NOT NULL,
    manifest    TEXT NOT NULL,               -- JSON: [{"path","sha256","size"}]
    created_at  TEXT NOT NULL
);

CREATE TABLE registry_versions (
    name             TEXT NOT NULL REFERENCES registry_models (name),
    version          INTEGER NOT NULL,
    stage            TEXT NOT NULL,           -- candidate, staging, production, archived
    kind             TEXT NOT NULL,
    artifact_sha256  TEXT NOT NULL REFERENCES registry_artifacts (sha256),
    base_model       TEXT,                    -- path of the base model an adapter applies to
    base_sha256      TEXT,                    -- hash of the base model's manifest
    parent_version   INTEGER,
    run_dir          TEXT NOT NULL,
    lineage          TEXT NOT NULL,           -- JSON: recipe, datasets, metrics, eval, hashes
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Every time a version became production, in order; rollback marks the current one rolled back and
-- returns to the latest earlier one that was not.
CREATE TABLE registry_production (
    id              {id},
    name            TEXT NOT NULL REFERENCES registry_models (name),
    version         INTEGER NOT NULL,
    promoted_at     TEXT NOT NULL,
    rolled_back_at  TEXT
);

CREATE TABLE registry_audit (
    id          {id},
    at          TEXT NOT NULL,
    who         TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER,
    action      TEXT NOT NULL,                -- register, promote, rollback, stage
    from_stage  TEXT,
    to_stage    TEXT,
    reason      TEXT,
    details     TEXT                          -- JSON: gate verdict, metrics, forced
);

CREATE INDEX registry_audit_name ON registry_audit (name, id);
