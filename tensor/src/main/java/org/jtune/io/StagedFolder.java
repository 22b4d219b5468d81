package org.jtune.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jtune.JtuneException;

/**
 * A multi-file output (a merged model's shards and index, an adapter folder, an eval folder)
 * written whole beside its target and switched in at the end, so that readers, and a process
 * killed at any moment, see either the old complete folder or the new complete one, never a mix.
 *
 * <pre>
 *   .NAME.staging-HEX   written by the caller ({@link #path()})
 *   .NAME.ready-HEX     renamed so when complete (every file already synced)
 *   NAME                ready exchanged with the old NAME in one step (renameat2 RENAME_EXCHANGE),
 *                       or, where that is unavailable, old NAME → .NAME.old-HEX then ready → NAME
 * </pre>
 *
 * The caller holds the target's {@link FolderLock}. {@link #begin} first repairs what a killed
 * earlier switch left: with NAME missing, a ready folder (complete and new) or else an old one
 * (complete and previous) is moved back to NAME; leftovers (staging folders of killed writers, the
 * previous folder after a switch) are deleted. A staged folder that is closed without
 * {@link #commit()} is deleted and the target is untouched.
 */
public final class StagedFolder implements AutoCloseable {
    private static final SecureRandom NAMES = new SecureRandom();

    /** Writes more files into a staged folder before it is switched in (so that they arrive with the rest, or not at all). */
    @FunctionalInterface
    public interface Extra {
        Extra NONE = folder -> {};

        void writeInto(Path folder) throws JtuneException;
    }

    private final Path target;
    private final Path staging;
    private boolean committed;

    private StagedFolder(Path target, Path staging) {
        this.target = target;
        this.staging = staging;
    }

    /** Starts writing a new version of {@code target} (a folder, or a path where one will be). */
    public static StagedFolder begin(Path target) throws JtuneException {
        Path abs = target.toAbsolutePath().normalize();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(abs)) {
            throw new JtuneException(target + " exists and is a file, not a folder: choose another output folder");
        }
        recover(abs);
        Path staging = sibling(abs, "staging");
        try {
            Files.createDirectories(abs.getParent());
            Files.createDirectory(staging);
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("create", staging, e), e);
        }
        return new StagedFolder(abs, staging);
    }

    /**
     * Refuses to replace {@code target} when it exists, is not empty and holds none of {@code markers}
     * (the files an output of this kind has): replacing it would delete files jtune did not write.
     */
    public static void refuseForeign(Path target, String what, String... markers) throws JtuneException {
        if (!Files.isDirectory(target)) return;
        try (Stream<Path> s = Files.list(target)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).toList();
            if (names.isEmpty()) return;
            for (String m : markers) if (names.contains(m)) return;
            throw new JtuneException(target + " is a folder that holds other files (" + String.join(", ", names.stream().sorted().limit(3).toList())
                    + (names.size() > 3 ? ", …" : "") + ") and no " + what + "; writing the " + what + " replaces the whole folder, "
                    + "so choose a new or empty folder");
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("read", target, e), e);
        }
    }

    /** The folder to write into. */
    public Path path() {
        return staging;
    }

    public Path target() {
        return target;
    }

    /** Syncs the staged folder and switches it in as the target; the previous target is deleted. */
    public void commit() throws JtuneException {
        if (committed) throw new IllegalStateException("already committed: " + target);
        Path parent = target.getParent();
        Path ready = sibling(target, "ready");
        try {
            syncTree(staging);
            Files.move(staging, ready, StandardCopyOption.ATOMIC_MOVE);
            AtomicFile.syncDirectory(parent);
            committed = true;
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(ready, target, StandardCopyOption.ATOMIC_MOVE);
            } else if (FolderExchange.exchange(ready, target)) {
                AtomicFile.syncDirectory(parent);
                deleteTree(ready); // now the previous version
            } else {
                Path old = sibling(target, "old");
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(ready, target, StandardCopyOption.ATOMIC_MOVE);
                AtomicFile.syncDirectory(parent);
                deleteTree(old);
            }
            AtomicFile.syncDirectory(parent);
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("switch in the new", target, e)
                    + (committed ? " (the complete new version is kept as " + ready + " and is moved into place by the next run)" : ""), e);
        }
    }

    /** Deletes the staged folder unless it was committed. */
    @Override
    public void close() {
        if (committed) return;
        try {
            deleteTree(staging);
        } catch (IOException ignored) {
            // a leftover staging folder is deleted by the next begin() on this target
        }
    }

    /**
     * Repairs what a writer killed during {@link #commit()} left beside {@code target}, and deletes
     * leftovers (the caller holds the target's lock, so no writer is running). Returns a note when it
     * moved a folder into place, else null.
     */
    public static String recover(Path target) throws JtuneException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) return null;
        Pattern p = Pattern.compile("\\." + Pattern.quote(abs.getFileName().toString()) + "\\.(staging|ready|old)-[0-9a-f]{16}");
        List<Path> staging = new ArrayList<>(), ready = new ArrayList<>(), old = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path c : ds) {
                Matcher m = p.matcher(c.getFileName().toString());
                if (!m.matches()) continue;
                switch (m.group(1)) {
                    case "staging" -> staging.add(c);
                    case "ready" -> ready.add(c);
                    default -> old.add(c);
                }
            }
            String note = null;
            if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                List<Path> from = !ready.isEmpty() ? ready : old;
                if (!from.isEmpty()) {
                    from.sort(Comparator.comparing(StagedFolder::modified));
                    Path back = from.removeLast();
                    Files.move(back, abs, StandardCopyOption.ATOMIC_MOVE);
                    AtomicFile.syncDirectory(parent);
                    note = "completed an interrupted write of " + abs + " (moved " + back.getFileName() + " into place)";
                }
            }
            for (List<Path> l : List.of(staging, ready, old)) for (Path c : l) deleteTree(c);
            return note;
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("clean up an interrupted write beside", abs, e), e);
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static Path sibling(Path target, String kind) {
        return target.getParent().resolve("." + target.getFileName() + "." + kind + "-" + String.format("%016x", NAMES.nextLong()));
    }

    /** Forces the folders of a tree to disk (files written through {@link AtomicFile} are synced already). */
    private static void syncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path d : s.filter(Files::isDirectory).toList()) AtomicFile.syncDirectory(d);
        }
    }

    /** Deletes a file or a folder tree (links are deleted, not followed). */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
