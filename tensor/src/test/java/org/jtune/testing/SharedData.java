package org.jtune.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the test data kept beside the repository (../shared): models, tokenizers, datasets.
 * Tests that need it call {@link #require(String)}, which skips the test with a clear message when
 * the file is absent. Nothing from there is copied into the repository.
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

    /** The path of a shared file or folder; skips the calling test when it is not there. */
    public static Path require(String relative) {
        Path path = root().resolve(relative);
        assumeTrue(Files.exists(path), () -> "skipped: test data " + path + " is not present (../shared beside the repository)");
        return path;
    }
}
