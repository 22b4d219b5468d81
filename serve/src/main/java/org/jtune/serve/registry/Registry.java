package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jtune.JtuneException;

/**
 * The model registry: named models, their numbered versions with lineage, stages, the production
 * history and an audit log, in SQLite (a file) or PostgreSQL (a JDBC URL), with the artifacts in a
 * content-addressed {@link ArtifactStore} (for SQLite, the folder {@code artifacts} beside the file).
 *
 * <p>Every change runs in one transaction that locks the model's row and bumps its {@code revision}.
 * A change that was decided on an earlier read (a promotion whose gate ran against the production
 * version of that moment) names the revision it read; if the row has moved on meanwhile, nothing is
 * written and the change is refused: of two promotes at once, one wins and the other is told to run
 * again.
 */
public final class Registry {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Database db;
    private final ArtifactStore store;

    private Registry(Database db, ArtifactStore store) {
        this.db = db;
        this.store = store;
    }

    /** Opens (creating and migrating as needed) the registry; {@code artifacts} may be null for an SQLite file. */
    public static Registry open(String spec, Path artifacts) throws JtuneException {
        Database db = Database.of(spec);
        if (artifacts == null) {
            if (db.file() == null) {
                throw new JtuneException("registry " + spec + ": a server database needs --artifacts DIR (a folder every user of the registry can read)");
            }
            artifacts = db.file().toAbsolutePath().getParent().resolve("artifacts");
        }
        SchemaMigrations.migrate(db);
        return new Registry(db, new ArtifactStore(artifacts.toAbsolutePath().normalize()));
    }

    public Database database() {
        return db;
    }

    public ArtifactStore store() {
        return store;
    }

    /** What {@link #register} needs besides the run folder. */
    public record Registration(String name, Integer parent, String who) {}

    /**
     * Records a new candidate version from a finished run: its artifact (stored), and as lineage the
     * base model and its file hashes, the dataset files with hashes and the data check summary, the
     * recipe (every key), training metrics (final and best), evaluation metrics and gate verdict,
     * the parent version, who and when.
     */
    public ModelVersion register(RunFolder run, Registration r) throws JtuneException {
        checkName(r.name());
        ArtifactManifest artifact = ArtifactManifest.of(run.artifact());
        store.put(run.artifact(), artifact);
        Path base = run.recipe().baseModel();
        ArtifactManifest baseManifest = base != null && Files.isDirectory(base) ? ArtifactManifest.of(base) : null;

        ObjectNode lineage = JSON.createObjectNode();
        lineage.put("run_dir", run.dir().toString()).put("kind", run.kind());
        ObjectNode a = lineage.putObject("artifact");
        a.put("sha256", artifact.sha256()).put("bytes", artifact.bytes()).set("files", artifact.toJson());
        ObjectNode b = lineage.putObject("base_model");
        b.put("path", base == null ? null : base.toString());
        if (baseManifest != null) b.put("sha256", baseManifest.sha256()).put("bytes", baseManifest.bytes()).set("files", baseManifest.toJson());
        else b.put("missing", true);
        lineage.set("datasets", run.datasetsJson());
        lineage.set("data_check", run.dataCheck());
        lineage.set("recipe", run.recipeKeys());
        lineage.set("training", run.trainingMetrics());
        ObjectNode eval = run.evalJson();
        if (eval != null) lineage.set("eval", eval);
        else lineage.putNull("eval");
        if (Files.isRegularFile(run.dir().resolve("report.html"))) lineage.put("report", run.dir().resolve("report.html").toString());

        String now = Clock.now();
        String kind = run.kind();
        return db.transaction(c -> {
            ensureModel(c, r.name(), r.who(), now);
            long[] state = lockModel(c, r.name());
            int version = (int) state[1] + 1;
            Integer parent = r.parent();
            String parentReason = "given";
            if (parent != null) {
                if (find(c, r.name(), parent).isEmpty()) throw new JtuneException("--parent " + parent + ": " + r.name() + " has no such version");
            } else {
                parent = baseManifest == null ? null : versionWithArtifact(c, r.name(), baseManifest.sha256());
                parentReason = "its base model is this version";
                if (parent == null) {
                    parent = productionVersion(c, r.name());
                    parentReason = "production when it was registered";
                }
            }
            ObjectNode lin = lineage.deepCopy();
            lin.put("parent_version", parent);
            if (parent != null) lin.put("parent_reason", parentReason);
            bump(c, r.name(), state[0], version);
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO registry_artifacts (sha256, kind, files, bytes, manifest, created_at) SELECT ?, ?, ?, ?, ?, ? "
                            + "WHERE NOT EXISTS (SELECT 1 FROM registry_artifacts WHERE sha256 = ?)")) {
                p.setString(1, artifact.sha256());
                p.setString(2, kind);
                p.setInt(3, artifact.files().size());
                p.setLong(4, artifact.bytes());
                p.setString(5, artifact.toJson().toString());
                p.setString(6, now);
                p.setString(7, artifact.sha256());
                p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO registry_versions (name, version, stage, kind, artifact_sha256, base_model, "
                    + "base_sha256, parent_version, run_dir, lineage, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, r.name());
                p.setInt(2, version);
                p.setString(3, Stage.CANDIDATE.id());
                p.setString(4, kind);
                p.setString(5, artifact.sha256());
                p.setString(6, base == null ? null : base.toString());
                p.setString(7, baseManifest == null ? null : baseManifest.sha256());
                setInt(p, 8, parent);
                p.setString(9, run.dir().toString());
                p.setString(10, lin.toString());
                p.setString(11, now);
                p.setString(12, r.who());
                p.executeUpdate();
            }
            audit(c, now, r.who(), r.name(), version, "register", null, Stage.CANDIDATE.id(), null,
                    JSON.createObjectNode().put("run_dir", run.dir().toString()).put("artifact_sha256", artifact.sha256()));
            return find(c, r.name(), version).orElseThrow();
        });
    }

    public List<String> names() throws JtuneException {
        return db.read(c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT name FROM registry_models ORDER BY name"); ResultSet rs = p.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        });
    }

    /** Every version of {@code name}, oldest first (empty when the name is unknown). */
    public List<ModelVersion> versions(String name) throws JtuneException {
        return db.read(c -> {
            List<ModelVersion> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM registry_versions WHERE name = ? ORDER BY version")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) out.add(version(rs));
                }
            }
            return out;
        });
    }

    public ModelVersion version(String name, int version) throws JtuneException {
        return db.read(c -> find(c, name, version)).orElseThrow(() -> new JtuneException(
                "registry " + db.spec() + " has no version " + version + " of '" + name + "'"));
    }

    public Optional<ModelVersion> production(String name) throws JtuneException {
        return db.read(c -> {
            Integer v = productionVersion(c, name);
            return v == null ? Optional.<ModelVersion>empty() : find(c, name, v);
        });
    }

    /** The model row's revision: every change of the name's versions increases it (0 when the name is unknown). */
    public long revision(String name) throws JtuneException {
        return db.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT revision FROM registry_models WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    /** The version's artifact as a folder laid out from the store (for an adapter: the PEFT folder to apply to {@link ModelVersion#baseModel}). */
    public Path artifactFolder(ModelVersion v) throws JtuneException {
        return store.folder(v.artifactSha256(), ArtifactManifest.fromJson(v.lineage().path("artifact").path("files")));
    }

    /**
     * Moves {@code version} to {@code to}, provided the model is still at {@code expectedRevision}
     * (what the caller's decision was based on; -1: do not check). Into production, the current
     * production version is archived and the move is pushed on the production history. The audit row
     * carries {@code reason} and {@code details}.
     */
    public ModelVersion setStage(String name, int version, Stage to, long expectedRevision, String who, String reason, ObjectNode details)
            throws JtuneException {
        String now = Clock.now();
        return db.transaction(c -> {
            long[] state = lockModel(c, name);
            if (expectedRevision >= 0 && state[0] != expectedRevision) {
                throw new ConcurrentChangeException("'" + name + "' changed while this promotion was being decided (revision " + expectedRevision
                        + " → " + state[0] + ", e.g. another promote or rollback won): nothing changed; run it again");
            }
            ModelVersion v = find(c, name, version).orElseThrow(() -> new JtuneException("'" + name + "' has no version " + version));
            if (v.stage() == to) throw new JtuneException(v.label() + " is already in " + to.id());
            Integer prod = productionVersion(c, name);
            if (v.stage() == Stage.PRODUCTION && prod != null && prod == version) {
                throw new JtuneException(v.label() + " is in production: promote another version or use rollback to take it out");
            }
            bump(c, name, state[0], (int) state[1]);
            if (to == Stage.PRODUCTION) {
                if (prod != null) {
                    updateStage(c, name, prod, Stage.ARCHIVED);
                    audit(c, now, who, name, prod, "archive", Stage.PRODUCTION.id(), Stage.ARCHIVED.id(), "replaced by version " + version, null);
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO registry_production (name, version, promoted_at) VALUES (?, ?, ?)")) {
                    p.setString(1, name);
                    p.setInt(2, version);
                    p.setString(3, now);
                    p.executeUpdate();
                }
            }
            updateStage(c, name, version, to);
            audit(c, now, who, name, version, to == Stage.PRODUCTION ? "promote" : "stage", v.stage().id(), to.id(), reason, details);
            return find(c, name, version).orElseThrow();
        });
    }

    /** Production goes back to the previous production version (the current one is archived). Returns the version now in production. */
    public ModelVersion rollback(String name, String who, String reason) throws JtuneException {
        String now = Clock.now();
        return db.transaction(c -> {
            long[] state = lockModel(c, name);
            List<long[]> history = new ArrayList<>(); // (row id, version) of production moves not rolled back, newest first
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT id, version FROM registry_production WHERE name = ? AND rolled_back_at IS NULL ORDER BY id DESC")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) history.add(new long[] {rs.getLong(1), rs.getInt(2)});
                }
            }
            Integer prod = productionVersion(c, name);
            if (prod == null || history.isEmpty()) throw new JtuneException("'" + name + "' has no version in production: nothing to roll back");
            long[] current = history.getFirst();
            long[] previous = null;
            for (long[] h : history) {
                if (h[1] != prod) {
                    previous = h;
                    break;
                }
            }
            if (previous == null) throw new JtuneException("'" + name + "' has no earlier production version to roll back to (" + name + ":" + prod + " is the first)");
            int back = (int) previous[1];
            if (current[1] != prod) throw new IllegalStateException("production history out of step with stages for " + name);
            bump(c, name, state[0], (int) state[1]);
            try (PreparedStatement p = c.prepareStatement("UPDATE registry_production SET rolled_back_at = ? WHERE name = ? AND rolled_back_at IS NULL AND id > ?")) {
                p.setString(1, now);
                p.setString(2, name);
                p.setLong(3, previous[0]);
                p.executeUpdate();
            }
            updateStage(c, name, prod, Stage.ARCHIVED);
            String from = find(c, name, back).orElseThrow().stage().id();
            updateStage(c, name, back, Stage.PRODUCTION);
            ObjectNode d = JSON.createObjectNode().put("from_version", prod).put("to_version", back);
            audit(c, now, who, name, prod, "rollback", Stage.PRODUCTION.id(), Stage.ARCHIVED.id(), reason, d);
            audit(c, now, who, name, back, "rollback", from, Stage.PRODUCTION.id(), reason, d);
            return find(c, name, back).orElseThrow();
        });
    }

    /** The audit log of {@code name} (every name when null), oldest first. */
    public List<AuditEntry> audit(String name) throws JtuneException {
        return db.read(c -> {
            List<AuditEntry> out = new ArrayList<>();
            String sql = "SELECT * FROM registry_audit" + (name == null ? "" : " WHERE name = ?") + " ORDER BY id";
            try (PreparedStatement p = c.prepareStatement(sql)) {
                if (name != null) p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        String details = rs.getString("details");
                        int v = rs.getInt("version");
                        Integer version = rs.wasNull() ? null : v;
                        out.add(new AuditEntry(rs.getLong("id"), rs.getString("at"), rs.getString("who"), rs.getString("name"), version,
                                rs.getString("action"), rs.getString("from_stage"), rs.getString("to_stage"), rs.getString("reason"),
                                details == null ? null : (ObjectNode) parse(details)));
                    }
                }
            }
            return out;
        });
    }

    /** A change refused because the registry moved on since the caller read it. */
    public static final class ConcurrentChangeException extends JtuneException {
        public ConcurrentChangeException(String message) {
            super(message);
        }
    }

    // ---- rows -------------------------------------------------------------------------------------

    private static void checkName(String name) throws JtuneException {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new JtuneException("model name '" + name + "': use letters, digits, '.', '_' and '-' (it appears in URLs and in name:version)");
        }
    }

    private void ensureModel(Connection c, String name, String who, String now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO registry_models (name, created_at, created_by, revision, last_version) "
                + "VALUES (?, ?, ?, 0, 0) ON CONFLICT (name) DO NOTHING")) {
            p.setString(1, name);
            p.setString(2, now);
            p.setString(3, who);
            p.executeUpdate();
        }
    }

    /** Locks the model row for this transaction; returns (revision, last_version). */
    private long[] lockModel(Connection c, String name) throws SQLException, JtuneException {
        String lock = db.dialect() == Database.Dialect.POSTGRESQL ? " FOR UPDATE" : ""; // SQLite: BEGIN IMMEDIATE already holds the write lock
        try (PreparedStatement p = c.prepareStatement("SELECT revision, last_version FROM registry_models WHERE name = ?" + lock)) {
            p.setString(1, name);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) throw new JtuneException("registry " + db.spec() + " has no model named '" + name + "'");
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private static void bump(Connection c, String name, long revision, int lastVersion) throws SQLException, JtuneException {
        try (PreparedStatement p = c.prepareStatement("UPDATE registry_models SET revision = ?, last_version = ? WHERE name = ? AND revision = ?")) {
            p.setLong(1, revision + 1);
            p.setInt(2, lastVersion);
            p.setString(3, name);
            p.setLong(4, revision);
            if (p.executeUpdate() != 1) throw new ConcurrentChangeException("'" + name + "' was changed by another writer: nothing changed; run it again");
        }
    }

    private static void updateStage(Connection c, String name, int version, Stage to) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE registry_versions SET stage = ? WHERE name = ? AND version = ?")) {
            p.setString(1, to.id());
            p.setString(2, name);
            p.setInt(3, version);
            p.executeUpdate();
        }
    }

    private static Integer productionVersion(Connection c, String name) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT version FROM registry_versions WHERE name = ? AND stage = ?")) {
            p.setString(1, name);
            p.setString(2, Stage.PRODUCTION.id());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getInt(1) : null;
            }
        }
    }

    private static Integer versionWithArtifact(Connection c, String name, String sha256) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT MAX(version) FROM registry_versions WHERE name = ? AND artifact_sha256 = ?")) {
            p.setString(1, name);
            p.setString(2, sha256);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) return null;
                int v = rs.getInt(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    private static Optional<ModelVersion> find(Connection c, String name, int version) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM registry_versions WHERE name = ? AND version = ?")) {
            p.setString(1, name);
            p.setInt(2, version);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(version(rs)) : Optional.empty();
            }
        }
    }

    private static ModelVersion version(ResultSet rs) throws SQLException {
        int parent = rs.getInt("parent_version");
        Integer parentVersion = rs.wasNull() ? null : parent;
        Stage stage;
        try {
            stage = Stage.parse(rs.getString("stage"));
        } catch (JtuneException e) {
            throw new SQLException(e.getMessage(), e);
        }
        return new ModelVersion(rs.getString("name"), rs.getInt("version"), stage, rs.getString("kind"), rs.getString("artifact_sha256"),
                rs.getString("base_model"), rs.getString("base_sha256"), parentVersion, rs.getString("run_dir"),
                (ObjectNode) parse(rs.getString("lineage")), rs.getString("created_at"), rs.getString("created_by"));
    }

    private static void audit(Connection c, String at, String who, String name, Integer version, String action, String from, String to,
                              String reason, ObjectNode details) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO registry_audit (at, who, name, version, action, from_stage, to_stage, reason, details) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, at);
            p.setString(2, who);
            p.setString(3, name);
            setInt(p, 4, version);
            p.setString(5, action);
            p.setString(6, from);
            p.setString(7, to);
            p.setString(8, reason);
            p.setString(9, details == null ? null : details.toString());
            p.executeUpdate();
        }
    }

    private static void setInt(PreparedStatement p, int i, Integer v) throws SQLException {
        if (v == null) p.setNull(i, Types.INTEGER);
        else p.setInt(i, v);
    }

    private static JsonNode parse(String json) throws SQLException {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new SQLException("stored JSON is damaged: " + e.getMessage(), e);
        }
    }

    /** The user a change is recorded under: $JTUNE_USER, else the operating system's user name. */
    public static String currentUser() {
        String u = System.getenv("JTUNE_USER");
        return u != null && !u.isBlank() ? u : System.getProperty("user.name", "unknown");
    }
}
