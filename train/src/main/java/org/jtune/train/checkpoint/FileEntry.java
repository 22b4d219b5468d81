package org.jtune.train.checkpoint;

/** One file of a checkpoint as the manifest records it: its name in the folder, size and SHA-256 (hex). */
public record FileEntry(String name, long bytes, String sha256) {
    public FileEntry {
        if (name == null || name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new IllegalArgumentException("checkpoint file name must be a plain name inside the folder, got '" + name + "'");
        }
        if (bytes < 0) throw new IllegalArgumentException("negative size for " + name);
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) throw new IllegalArgumentException("bad SHA-256 for " + name + ": " + sha256);
    }

    /** The entry of a file just written into the checkpoint folder. */
    public static FileEntry of(org.jtune.io.AtomicFile.Written w) {
        return new FileEntry(w.file().getFileName().toString(), w.bytes(), w.sha256());
    }
}
