package org.jtune.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.jtune.JtuneException;

/**
 * Refuses an output that would overwrite or delete one of the command's own inputs: `merge --out`
 * equal to `--model`, `eval --out` equal to `--baseline`, a run folder that holds the training data.
 * Paths are compared after resolving links ({@code ./m}, {@code m/}, a symlink to m, and a hard link
 * to the same file all count as m). An output replaces its whole folder, so an output that contains
 * an input (is a parent folder of it) is refused as well; an output inside an input folder is not.
 */
public final class OverwriteGuard {
    private OverwriteGuard() {}

    /**
     * Fails when writing {@code out} (named by {@code outFlag}, e.g. "--out") would change {@code input}
     * (named by {@code inFlag}); a null input is skipped.
     */
    public static void refuse(String outFlag, Path out, String inFlag, Path input) throws JtuneException {
        if (out == null || input == null) return;
        Path o = canonical(out), i = canonical(input);
        boolean same = o.equals(i) || sameFile(out, input);
        if (same) {
            throw new JtuneException(outFlag + " " + out + " is the same " + (Files.isDirectory(input) ? "folder" : "file") + " as "
                    + inFlag + " " + input + ": writing it would destroy the input; choose another " + outFlag);
        }
        if (i.startsWith(o)) {
            throw new JtuneException(outFlag + " " + out + " contains " + inFlag + " " + input
                    + ": the output replaces that folder and would delete the input; choose another " + outFlag);
        }
    }

    /** Whether {@code path} lies inside the folder {@code folder} (after resolving links), not counting equality. */
    public static boolean inside(Path path, Path folder) {
        Path p = canonical(path), f = canonical(folder);
        return !p.equals(f) && p.startsWith(f);
    }

    /** The absolute path with links resolved as far as the path exists (the rest appended as given). */
    static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        Path rest = null;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            rest = rest == null ? existing.getFileName() : existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) return abs;
        try {
            Path real = existing.toRealPath();
            return rest == null ? real : real.resolve(rest).normalize();
        } catch (IOException e) {
            return abs;
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
