package org.jtune.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the test data kept beside the repository (../shared): models, tokenizers, datasets.
 * Tests that need it call {@link #require(String)}, which skips the test with a clear message when
 * the file is absent (and fails it under CI=true). Nothing from there is copied into the repository.
 */
public final class SharedData {
    private SharedData() {}

    /** The shared folder: system property jtune.shared, else environment JTUNE_SHARED, else ../shared. */
    public static Path root() {
        String p = System.getProperty("jtune.shared");
        if (p == null || p.isBlank()) p = System.getenv("JTUNE_SHARED");
        if (p == null || p.isBlank()) p = "../shared";
        return Path.of(p).toAbsolutePath().normalize();
    }

    /**
     * The path of a shared file or folder. When it is not there the calling test is skipped — except
     * under CI (environment CI=true), where ../shared is always provided and a missing file means a
     * golden check would silently stop running: then the test fails.
     */
    public static Path require(String relative) {
        Path path = root().resolve(relative);
        if (!Files.exists(path) && "true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("test data " + path + " is missing, and CI=true: the golden tests must run in CI (is ../shared beside the repository?)");
        }
        assumeTrue(Files.exists(path), () -> "skipped: test data " + path + " is not present (../shared beside the repository)");
        return path;
    }
}
