package org.jtune.serve.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.jtune.JtuneException;

/**
 * Versioned schema migrations of the registry: scripts {@code V<n>__<what>.sql} beside this class,
 * applied in order, each in its own transaction together with its row in {@code registry_schema}
 * (version, description, applied_at). A database newer than this program is refused rather than
 * written to. Two processes migrating at once: the second waits on the first's lock (SQLite) or fails
 * on the primary key of registry_schema and re-reads the version (PostgreSQL).
 */
final class SchemaMigrations {
    /** The scripts, in order; add new ones at the end, never edit an applied one. */
    static final List<String> SCRIPTS = List.of("V1__registry.sql");

    private SchemaMigrations() {}

    static int latest() {
        return SCRIPTS.size();
    }

    /** Brings the database to the latest version; returns the version it was at. */
    static int migrate(Database db) throws JtuneException {
        db.transaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
            }
            return null;
        });
        int before = current(db);
        if (before > latest()) {
            throw new JtuneException("registry " + db.spec() + " has schema version " + before + ", newer than this jtune knows ("
                    + latest() + "): upgrade jtune");
        }
        for (int v = before + 1; v <= latest(); v++) {
            int version = v;
            String script = SCRIPTS.get(v - 1);
            String sql = load(script).replace("{id}", db.dialect().autoId);
            try {
                db.transaction(c -> {
                    if (currentIn(c) >= version) return null; // another process applied it meanwhile
                    try (Statement s = c.createStatement()) {
                        for (String stmt : statements(sql)) s.execute(stmt);
                    }
                    try (PreparedStatement p = c.prepareStatement("INSERT INTO registry_schema (version, description, applied_at) VALUES (?, ?, ?)")) {
                        p.setInt(1, version);
                        p.setString(2, script);
                        p.setString(3, Clock.now());
                        p.executeUpdate();
                    }
                    return null;
                });
            } catch (JtuneException e) {
                if (current(db) < version) throw new JtuneException("registry " + db.spec() + ": migration " + script + " failed: " + e.getMessage(), e);
            }
        }
        return before;
    }

    static int current(Database db) throws JtuneException {
        return db.read(SchemaMigrations::currentIn);
    }

    private static int currentIn(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        try (ResultSet t = md.getTables(null, null, "registry_schema", null)) {
            if (!t.next()) return 0;
        }
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT MAX(version) FROM registry_schema")) {
            return r.next() ? r.getInt(1) : 0;
        }
    }

    /** The statements of a script: blocks separated by blank lines, comment lines dropped. */
    static List<String> statements(String script) {
        List<String> out = new java.util.ArrayList<>();
        for (String block : script.split("\\n\\s*\\n")) {
            StringBuilder sb = new StringBuilder();
            for (String line : block.split("\\n")) {
                String l = line.strip();
                if (l.startsWith("--") || l.isEmpty()) continue;
                int comment = line.indexOf("--");
                sb.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
            }
            String stmt = sb.toString().strip();
            if (stmt.endsWith(";")) stmt = stmt.substring(0, stmt.length() - 1);
            if (!stmt.isEmpty()) out.add(stmt);
        }
        return out;
    }

    private static String load(String script) throws JtuneException {
        try (InputStream in = SchemaMigrations.class.getResourceAsStream(script)) {
            if (in == null) throw new JtuneException("migration script " + script + " missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JtuneException("cannot read migration script " + script + ": " + e.getMessage(), e);
        }
    }
}
