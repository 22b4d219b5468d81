package org.jtune.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Puts files a benchmark has just written into the state of a model downloaded earlier: flushed to disk, then dropped
 * from the page cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)}, Linux), so the engine under test maps a file it reads
 * from disk. Why: pages just written are dirty — their writeback runs during the measurement — and they sit in small
 * page-cache folios that map with 4 KiB pages, while a file read back from disk fills large folios that the kernel maps
 * with 2 MiB pages (TinyLlama-1.1B-shaped Q4_0 GGUF, in a process of its own, weights locked: a fresh copy 23–26 tok/s with
 * 0 KiB FilePmdMapped, the same bytes read from disk 25–29 tok/s with 563 of 622 MiB PMD-mapped; bench/RESULTS.md,
 * 2026-12-05). Each engine in a comparison gets the same treatment. Elsewhere than Linux: flushed only.
 */
final class SettledFiles {
    private SettledFiles() {}

    private static final int O_RDONLY = 0, POSIX_FADV_DONTNEED = 4;

    /** Flushes and drops {@code path} (a file, or every regular file in a folder). */
    static void settle(Path path) throws IOException {
        List<Path> files;
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                files = s.filter(Files::isRegularFile).toList();
            }
        } else {
            files = List.of(path);
        }
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            drop(f);
        }
    }

    private static void drop(Path f) {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return;
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle open = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle fadvise = linker.downcallHandle(linker.defaultLookup().find("posix_fadvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int fd = (int) open.invokeExact(arena.allocateFrom(f.toString()), O_RDONLY);
            if (fd < 0) throw new IOException("open failed");
            try {
                int rc = (int) fadvise.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                if (rc != 0) throw new IOException("posix_fadvise returned " + rc);
            } finally {
                int ignored = (int) close.invokeExact(fd);
            }
        } catch (Throwable e) {
            System.err.println("bench: could not drop " + f + " from the page cache (" + e.getMessage() + "); it is measured warm");
        }
    }
}
