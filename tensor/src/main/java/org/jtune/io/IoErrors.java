package org.jtune.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Says why a file operation failed. Java's file exceptions often carry only the path as their
 * message ("cannot create /x/y: /x/y" says nothing); this turns the exception's type and the
 * operating system's reason into words: permission denied, a file is in the way, no space left on
 * the device, the file-size limit reached.
 */
public final class IoErrors {
    private IoErrors() {}

    /** "cannot ACTION PATH: REASON". */
    public static String cannot(String action, Path path, IOException e) {
        return "cannot " + action + " " + path + ": " + reason(e);
    }

    /** The reason of a failed file operation, in words (with the path involved when it is another one). */
    public static String reason(IOException e) {
        String why = switch (e) {
            case AccessDeniedException a -> "permission denied" + other(a);
            case FileAlreadyExistsException a -> "a file or folder of that name is in the way" + other(a);
            case NoSuchFileException a -> "no such file or folder" + other(a);
            case NotDirectoryException a -> "a part of the path is a file, not a folder" + other(a);
            case DirectoryNotEmptyException a -> "the folder is not empty" + other(a);
            case FileSystemException f when f.getReason() != null -> plain(f.getReason()) + other(f);
            default -> e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : plain(e.getMessage());
        };
        return why;
    }

    /** Lower-cases the operating system's wording and adds what it usually means. */
    private static String plain(String reason) {
        String r = reason.strip();
        String lower = r.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("no space left")) return "no space left on the device";
        if (lower.contains("file too large")) return "file too large (the file-size limit, ulimit -f, or the file system's limit, was reached)";
        if (lower.contains("disk quota")) return "disk quota exceeded";
        if (lower.contains("read-only file system")) return "the file system is read-only";
        if (lower.contains("permission denied")) return "permission denied";
        return r;
    }

    private static String other(FileSystemException e) {
        return e.getOtherFile() == null ? "" : " (" + e.getOtherFile() + ")";
    }
}
