package org.jtune.io;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.HashMap;
import org.jtune.JtuneException;

/**
 * An exclusive lock on an output folder (a run folder, a merge or export target, an eval folder),
 * so that two jtune processes never write into one folder at once. The lock is an operating-system
 * file lock ({@link FileChannel#tryLock}: fcntl on Linux, which NFSv4 honours) on a hidden sibling
 * file {@code .<name>.lock} (a sibling, not a file inside, because a staged output replaces the
 * folder itself). While held, the file names the holder (pid, host, start time, command), so a
 * refusal says who holds it; on release the file is emptied, not deleted (deleting it would let a
 * process that opened it a moment earlier lock a file nobody else sees).
 *
 * <p>Stale locks: the operating system drops a lock when its process dies (also on SIGKILL), so a
 * lock file still naming a holder that died is simply taken over, and {@link #staleNote()} says
 * whose it was. POSIX locks belong to the process and any close of the file drops them, so this
 * JVM keeps its own table of held locks and never opens a lock file it holds a second time: a
 * second lock on the same folder within one JVM is refused from that table. A folder inside a folder
 * this JVM holds (the adapter folder of a locked run folder) is covered by that lock: taking it
 * creates no lock file.
 */
public final class FolderLock implements AutoCloseable {
    /** Who holds (or held) a lock, as its lock file says. */
    public record Holder(long pid, String host, String started, String command) {
        /** "pid 1234 on host, since 2026-…, jtune train". */
        public String describe() {
            return "pid " + pid + " on " + host + ", since " + started + (command.isEmpty() ? "" : ", " + command);
        }
    }

    private static final Map<Path, FolderLock> HELD = new HashMap<>(); // guarded by itself

    private final Path folder;
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;
    private final Holder holder;
    private final Holder stale;
    private final Path realFolder;
    private boolean released;

    private FolderLock(Path folder, Path lockFile, FileChannel channel, FileLock lock, Holder holder, Holder stale, Path realFolder) {
        this.folder = folder;
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
        this.holder = holder;
        this.stale = stale;
        this.realFolder = realFolder;
    }

    /** The lock file of {@code folder}: {@code .<name>.lock} beside it. */
    public static Path lockFileOf(Path folder) {
        Path abs = folder.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || abs.getFileName() == null) throw new IllegalArgumentException("cannot lock the file-system root " + abs);
        return parent.resolve("." + abs.getFileName() + ".lock");
    }

    /**
     * Takes the lock of {@code folder} for {@code command} (what the lock is for, e.g. "training"; the
     * CLI's command line is added from the system property jtune.command), or fails with a message
     * naming the holder. The folder itself need not exist; its parent is created when missing.
     */
    public static FolderLock acquire(Path folder, String command) throws JtuneException {
        Path file = lockFileOf(folder);
        try {
            Files.createDirectories(file.getParent());
            file = file.getParent().toRealPath().resolve(file.getFileName());
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("create", file.getParent(), e), e);
        }
        synchronized (HELD) {
            FolderLock mine = HELD.get(file);
            if (mine != null) throw inUse(folder, file, mine.holder);
            Path real = file.getParent().resolve(folder.toAbsolutePath().normalize().getFileName());
            for (FolderLock held : HELD.values()) {
                if (real.startsWith(held.realFolder) && !real.equals(held.realFolder)) {
                    return new FolderLock(folder, null, null, null, held.holder, null, real); // covered by the enclosing lock
                }
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new JtuneException(IoErrors.cannot("create the lock file", file, e), e);
            }
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (IOException | OverlappingFileLockException e) {
                close(ch);
                throw new JtuneException(IoErrors.cannot("lock", file, e instanceof IOException io ? io : new IOException(e)), e);
            }
            if (lock == null) {
                Holder h = null;
                try {
                    for (int i = 0; i < 5 && h == null; i++) { // the holder may be between locking and writing its name
                        h = parse(readAll(ch));
                        if (h == null) Thread.sleep(20);
                    }
                } catch (IOException | InterruptedException e) {
                    if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                }
                close(ch);
                throw inUse(folder, file, h);
            }
            try {
                Holder previous = parse(readAll(ch));
                String process = System.getProperty("jtune.command"); // the CLI's command line, when it set one
                Holder me = new Holder(ProcessHandle.current().pid(), hostName(), Instant.now().toString(),
                        process != null ? process + " (" + command + ")" : command);
                write(ch, format(me));
                FolderLock l = new FolderLock(folder, file, ch, lock, me, previous, real);
                HELD.put(file, l);
                return l;
            } catch (IOException e) {
                close(ch);
                throw new JtuneException(IoErrors.cannot("write the lock file", file, e), e);
            }
        }
    }

    private static JtuneException inUse(Path folder, Path file, Holder h) {
        boolean here = h != null && h.pid() == ProcessHandle.current().pid() && h.host().equals(hostName());
        return new JtuneException(folder + " is in use by " + (here ? "this process" : "another jtune process")
                + (h == null ? "" : " (" + h.describe() + ")") + "; wait for it to finish or stop it (lock file " + file + ")");
    }

    /** The previous holder when this lock took over one left by a process that died without releasing it, else null. */
    public Holder staleHolder() {
        return stale;
    }

    /** A sentence for the log when a stale lock was taken over, else null. */
    public String staleNote() {
        return stale == null ? null : "took over the lock of " + folder + " left by a process that is no longer running ("
                + stale.describe() + ")";
    }

    public Path folder() {
        return folder;
    }

    /** Empties the lock file and releases the lock. */
    @Override
    public void close() {
        synchronized (HELD) {
            if (released) return;
            released = true;
            if (lockFile == null) return; // covered by an enclosing folder's lock
            HELD.remove(lockFile);
            try {
                channel.truncate(0);
                lock.release();
            } catch (IOException ignored) {
                // closing the channel releases the lock either way; a file still naming us reads as a stale lock
            }
            close(channel);
        }
    }

    static String hostName() {
        String env = System.getenv("HOSTNAME");
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return env != null ? env : "localhost";
        }
    }

    private static String format(Holder h) {
        return "pid=" + h.pid() + "\nhost=" + h.host() + "\nstarted=" + h.started() + "\ncommand=" + h.command().replace('\n', ' ') + "\n";
    }

    private static Holder parse(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
        }
        try {
            if (!m.containsKey("pid")) return null;
            return new Holder(Long.parseLong(m.get("pid")), m.getOrDefault("host", "?"), m.getOrDefault("started", "?"),
                    m.getOrDefault("command", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void write(FileChannel ch, String text) throws IOException {
        ch.truncate(0);
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) ch.write(b, b.position());
        ch.force(true);
    }

    private static String readAll(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(ch.size(), 64 * 1024));
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // until full or at the end
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written through it that matters
        }
    }
}
