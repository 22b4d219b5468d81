package org.jtune.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.jtune.JtuneException;

/**
 * The one way jtune writes a file: readers see either the old content or the whole new content,
 * never a half-written file. The bytes go to a new hidden file in the same folder (an unguessable
 * name, created exclusively, with the default permissions), are forced to disk (fsync), and the
 * file is renamed over the target atomically; the folder is then synced so the rename survives a
 * crash. A file system that cannot rename atomically is an error, never a silent plain move. On
 * failure the temporary file is removed and the target is untouched.
 */
public final class AtomicFile {
    /** Produces the content on a stream. */
    @FunctionalInterface
    public interface StreamBody {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Produces the content on a file channel (bulk tensor data). */
    @FunctionalInterface
    public interface ChannelBody {
        void writeTo(FileChannel ch) throws IOException;
    }

    /** What was written: the target, its size and SHA-256 (hex). */
    public record Written(Path file, long bytes, String sha256) {}

    private static final SecureRandom NAMES = new SecureRandom();

    private AtomicFile() {}

    /** Writes {@code target} from a stream and returns its size and SHA-256. */
    public static Written write(Path target, StreamBody body) throws IOException {
        MessageDigest sha = sha256Digest();
        long[] count = {0};
        commit(target, ch -> {
            OutputStream counting = new FilterOutputStream(Channels.newOutputStream(ch)) {
                @Override
                public void write(int b) throws IOException {
                    out.write(b);
                    count[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                    count[0] += len;
                }

                @Override
                public void close() throws IOException {
                    flush(); // the channel stays open until it is synced
                }
            };
            try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(counting, 1 << 16), sha)) {
                body.writeTo(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        out.flush(); // a body that closes its stream must not close it before the sync
                    }
                });
            }
        });
        return new Written(target, count[0], HexFormat.of().formatHex(sha.digest()));
    }

    /** Writes {@code target} through a file channel (no hash: bulk data written by the caller). */
    public static void writeChannel(Path target, ChannelBody body) throws IOException {
        commit(target, body);
    }

    /** Writes UTF-8 text; an error names the file and the cause. */
    public static void writeString(Path target, String text) throws JtuneException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        try {
            write(target, out -> out.write(b));
        } catch (IOException e) {
            throw new JtuneException(target + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Copies {@code source} to {@code target} atomically. */
    public static void copy(Path source, Path target) throws IOException {
        write(target, out -> Files.copy(source, out));
    }

    private static void commit(Path target, ChannelBody body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(NAMES.nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically; write to another folder", e);
            }
            syncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** SHA-256 (hex) of a file's content. */
    public static String sha256(Path file) throws IOException {
        MessageDigest sha = sha256Digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) sha.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Forces a folder's entries (renames, creations) to disk; a no-op where folders cannot be opened (Windows). */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            if (System.getProperty("os.name", "").startsWith("Windows")) return;
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
