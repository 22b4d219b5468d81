package org.jtune.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A separate JVM that takes a folder lock and holds it until killed (for {@link FolderLockTest}). */
public final class LockHolderMain {
    public static void main(String[] args) throws Exception {
        System.setProperty("jtune.command", "holding for a test");
        FolderLock lock = FolderLock.acquire(Path.of(args[0]), "a test");
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(120_000);
        lock.close();
    }

    /** Starts the holder and returns once it holds the lock. */
    static Process start(Path folder) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockHolderMain.class.getName(), folder.toString())
                .redirectErrorStream(true).start();
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        String line = in.readLine();
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new AssertionError("the lock holder did not start: " + line);
        }
        return p;
    }
}
