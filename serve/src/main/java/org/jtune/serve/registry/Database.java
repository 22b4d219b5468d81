package org.jtune.serve.registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.jtune.JtuneException;

/**
 * Where a registry or request log lives: a file path (an embedded SQLite database, created on first
 * write) or a JDBC URL ({@code jdbc:postgresql://host/db?user=..}, {@code jdbc:sqlite:/path}). Every
 * connection of an embedded database waits up to {@link #BUSY_TIMEOUT_MS} for another writer and
 * starts its transactions with SQLite's BEGIN IMMEDIATE, so two processes that read-then-write never
 * both go ahead on a stale read; PostgreSQL gets the same from row locks on the rows a change updates.
 *
 * @param spec    what the user gave (path or URL), for messages
 * @param url     the JDBC URL
 * @param dialect the SQL flavour
 * @param file    the SQLite file, or null for a server database
 */
public record Database(String spec, String url, Dialect dialect, Path file) {
    public static final int BUSY_TIMEOUT_MS = 30_000;

    public enum Dialect {
        SQLITE("INTEGER PRIMARY KEY AUTOINCREMENT"),
        POSTGRESQL("BIGSERIAL PRIMARY KEY");

        /** The column type of a generated row id, substituted for {@code {id}} in migration scripts. */
        final String autoId;

        Dialect(String autoId) {
            this.autoId = autoId;
        }
    }

    /** A path or a JDBC URL. Unknown JDBC URL kinds are refused with the supported ones named. */
    public static Database of(String spec) throws JtuneException {
        if (spec == null || spec.isBlank()) throw new JtuneException("no database given: a file path (SQLite) or a jdbc:postgresql:// URL");
        if (spec.startsWith("jdbc:sqlite:")) {
            String f = spec.substring("jdbc:sqlite:".length());
            int q = f.indexOf('?');
            Path file = f.isEmpty() || f.startsWith(":memory:") ? null : Path.of(q < 0 ? f : f.substring(0, q));
            return new Database(spec, spec, Dialect.SQLITE, file);
        }
        if (spec.startsWith("jdbc:postgresql:")) return new Database(spec, spec, Dialect.POSTGRESQL, null);
        if (spec.startsWith("jdbc:")) {
            throw new JtuneException("database " + spec + ": only jdbc:sqlite: and jdbc:postgresql: URLs are supported (or a file path for SQLite)");
        }
        Path file = Path.of(spec).toAbsolutePath().normalize();
        return new Database(spec, "jdbc:sqlite:" + file, Dialect.SQLITE, file);
    }

    /** True when this is an SQLite file that does not exist yet (a reader then has nothing to read). */
    public boolean missingFile() {
        return file != null && !Files.exists(file);
    }

    /** A new connection in auto-commit mode; the caller closes it. */
    public Connection connect() throws JtuneException {
        try {
            Properties p = new Properties();
            if (dialect == Dialect.SQLITE) {
                if (file != null && file.getParent() != null) Files.createDirectories(file.getParent());
                p.setProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
                p.setProperty("transaction_mode", "IMMEDIATE");
                p.setProperty("foreign_keys", "true");
            }
            return DriverManager.getConnection(url, p);
        } catch (SQLException | java.io.IOException e) {
            throw new JtuneException("cannot open database " + spec + ": " + e.getMessage(), e);
        }
    }

    /** A read-only connection to an existing database (the request log as monitoring reads it). */
    public Connection connectReadOnly() throws JtuneException {
        if (missingFile()) throw new JtuneException("database " + spec + " does not exist");
        try {
            Properties p = new Properties();
            if (dialect == Dialect.SQLITE) {
                p.setProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
                p.setProperty("open_mode", "1"); // SQLITE_OPEN_READONLY
            }
            Connection c = DriverManager.getConnection(url, p);
            if (dialect == Dialect.POSTGRESQL) c.setReadOnly(true);
            return c;
        } catch (SQLException e) {
            throw new JtuneException("cannot open database " + spec + ": " + e.getMessage(), e);
        }
    }

    /** Work done inside one transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException, JtuneException;
    }

    /** Runs {@code work} in one transaction on a new connection: committed when it returns, rolled back when it throws. */
    public <T> T transaction(Work<T> work) throws JtuneException {
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try {
                T t = work.run(c);
                c.commit();
                return t;
            } catch (SQLException | JtuneException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is closed next; the database discards the transaction
                }
                if (e instanceof SQLException s) throw new JtuneException("database " + spec + ": " + s.getMessage(), s);
                if (e instanceof JtuneException j) throw j;
                throw (RuntimeException) e;
            }
        } catch (SQLException e) {
            throw new JtuneException("database " + spec + ": " + e.getMessage(), e);
        }
    }

    /** Reads in auto-commit mode on a new connection. */
    public <T> T read(Work<T> work) throws JtuneException {
        try (Connection c = connect()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new JtuneException("database " + spec + ": " + e.getMessage(), e);
        }
    }
}
