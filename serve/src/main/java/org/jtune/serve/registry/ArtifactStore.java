package org.jtune.serve.registry;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.jtune.JtuneException;

/**
 * A content-addressed file store: each file under {@code blobs/<aa>/<sha256>} (aa = the hash's first
 * two hex digits), put there by a hard link when the source is on the same file system, else by a
 * copy (to a temporary name, checked against its hash, then renamed). A stored folder artifact comes
 * back as a folder of hard links (or copies) under {@code folders/<artifact sha256>}, made once and
 * shared by every reader. Deleting the run folder a version came from does not touch the store.
 * A hard-linked blob is the same inode as the run's file: jtune writes outputs to a new file and
 * renames it, so a later run never changes a stored blob in place.
 */
public record ArtifactStore(Path root) {

    public Path blob(String sha256) {
        return root.resolve("blobs").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    /** Stores every file of {@code dir} listed in {@code manifest}; returns the number of bytes copied (0 when all were linked or present). */
    public long put(Path dir, ArtifactManifest manifest) throws JtuneException {
        long copied = 0;
        for (ArtifactManifest.Entry e : manifest.files()) copied += putFile(dir.resolve(e.path()), e.sha256());
        return copied;
    }

    private long putFile(Path source, String sha256) throws JtuneException {
        Path target = blob(sha256);
        if (Files.isRegularFile(target)) return 0;
        try {
            Files.createDirectories(target.getParent());
            try {
                Files.createLink(target, source);
                return 0;
            } catch (FileAlreadyExistsException e) {
                return 0;
            } catch (IOException | UnsupportedOperationException e) {
                // another file system, or no hard links: copy
            }
            Path tmp = Files.createTempFile(target.getParent(), ".put-", ".tmp");
            try {
                Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
                String got = Sha256.of(tmp);
                if (!got.equals(sha256)) throw new JtuneException(source + " changed while it was being registered (hash " + got + ", expected " + sha256 + ")");
                long size = Files.size(tmp);
                move(tmp, target);
                return size;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new JtuneException("cannot store " + source + " in " + root + ": " + e.getMessage(), e);
        }
    }

    /** True when every file of the manifest is in the store with its size. */
    public boolean holds(ArtifactManifest manifest) {
        for (ArtifactManifest.Entry e : manifest.files()) {
            Path b = blob(e.sha256());
            try {
                if (!Files.isRegularFile(b) || Files.size(b) != e.size()) return false;
            } catch (IOException ex) {
                return false;
            }
        }
        return true;
    }

    /** The artifact as a folder (made on first use from the blobs; never written afterwards). */
    public Path folder(String artifactSha256, ArtifactManifest manifest) throws JtuneException {
        Path dir = root.resolve("folders").resolve(artifactSha256);
        if (Files.isDirectory(dir)) return dir;
        if (!holds(manifest)) throw new JtuneException("artifact store " + root + " is missing files of artifact " + artifactSha256);
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), ".folder-");
            for (ArtifactManifest.Entry e : manifest.files()) {
                Path f = tmp.resolve(e.path());
                Files.createDirectories(f.getParent());
                try {
                    Files.createLink(f, blob(e.sha256()));
                } catch (IOException | UnsupportedOperationException x) {
                    Files.copy(blob(e.sha256()), f);
                }
            }
            try {
                move(tmp, dir);
            } catch (IOException raced) {
                if (!Files.isDirectory(dir)) throw raced; // another reader made it first: use theirs
                deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new JtuneException("cannot lay out artifact " + artifactSha256 + " under " + root + ": " + e.getMessage(), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
