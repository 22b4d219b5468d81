package org.jtune.serve.registry;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtune.serve.log.LocalPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every {@link RegistryTest} on a real PostgreSQL server (a throw-away one, {@link LocalPostgres};
 * skipped without Debian's postgresql package): the dialect's own paths — BIGSERIAL ids, INSERT ... ON
 * CONFLICT DO NOTHING, and SELECT ... FOR UPDATE, which makes the second of two concurrent promotes wait
 * for the first and then find the revision changed. Each test's registry is a fresh database.
 */
class RegistryPostgresTest extends RegistryTest {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static LocalPostgres pg;
    private final Map<String, String> urls = new HashMap<>();

    @BeforeAll
    static void startServer() throws Exception {
        pg = LocalPostgres.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (pg != null) pg.close();
    }

    @Override
    synchronized String spec(Path root, String name) throws Exception {
        String key = root.resolve(name).toString();
        String url = urls.get(key);
        if (url == null) {
            url = pg.createDatabase("registry_" + DATABASES.incrementAndGet());
            urls.put(key, url);
        }
        return url;
    }

    @Override
    Path artifacts(Path root) {
        return root.resolve("artifacts");
    }
}
