package org.jtune.cli.faults;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Where the fault-injection tests kill a child: a seeded sequence of triggers, each either a moment
 * (milliseconds after the start, uniform over the command's expected duration) or an event (the
 * command's first new file, whatever it is, or a file or folder of a pattern appearing — a checkpoint
 * being assembled, an output being staged or switched in — plus a few random milliseconds). The seed is -Djtune.faults.seed (printed with every
 * kill, so a failure can be replayed); the number of kills per scenario is -Djtune.faults.kills.
 */
final class KillSchedule {
    /** When to kill. */
    interface Trigger {
        boolean fired(long startedNanos);
    }

    /** A moment after the start. */
    record AfterMillis(long millis) implements Trigger {
        public boolean fired(long startedNanos) {
            return System.nanoTime() - startedNanos >= millis * 1_000_000L;
        }

        @Override
        public String toString() {
            return millis + " ms";
        }
    }

    /** A file or folder of {@code dir} whose name matches {@code pattern} exists, then {@code extraMillis} more. */
    static final class WhenPresent implements Trigger {
        final Path dir;
        final Pattern pattern;
        final long extraMillis;
        private long seenAt = -1;

        WhenPresent(Path dir, String regex, long extraMillis) {
            this.dir = dir;
            this.pattern = Pattern.compile(regex);
            this.extraMillis = extraMillis;
        }

        public boolean fired(long startedNanos) {
            if (seenAt < 0 && present()) seenAt = System.nanoTime();
            return seenAt >= 0 && System.nanoTime() - seenAt >= extraMillis * 1_000_000L;
        }

        private boolean present() {
            if (!Files.isDirectory(dir)) return false;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) if (pattern.matcher(p.getFileName().toString()).matches()) return true;
            } catch (IOException e) {
                return false; // listing raced with a rename: look again
            }
            return false;
        }

        @Override
        public String toString() {
            return pattern.pattern() + " in " + dir.getFileName() + " + " + extraMillis + " ms";
        }
    }

    /**
     * Any new file or folder in one of {@code dirs} (lock files aside) since the trigger was drawn — a
     * temporary file, a shard, a staging folder: whatever the command writes first — then
     * {@code extraMillis} more. It does not depend on how the command writes, so it hits the write of
     * any implementation.
     */
    static final class WhenNew implements Trigger {
        final List<Path> dirs;
        final long extraMillis;
        final java.util.Set<String> before = new java.util.HashSet<>();
        private long seenAt = -1;

        WhenNew(List<Path> dirs, long extraMillis) {
            this.dirs = dirs;
            this.extraMillis = extraMillis;
            for (Path d : dirs) before.addAll(names(d));
        }

        public boolean fired(long startedNanos) {
            if (seenAt < 0) {
                for (Path d : dirs) {
                    for (String n : names(d)) {
                        if (!before.contains(n) && !n.endsWith(".lock")) {
                            seenAt = System.nanoTime();
                            break;
                        }
                    }
                }
            }
            return seenAt >= 0 && System.nanoTime() - seenAt >= extraMillis * 1_000_000L;
        }

        private static java.util.Set<String> names(Path dir) {
            java.util.Set<String> out = new java.util.HashSet<>();
            if (!Files.isDirectory(dir)) return out;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) out.add(dir.getFileName() + "/" + p.getFileName());
            } catch (IOException e) {
                // a rename raced with the listing: the next look sees it
            }
            return out;
        }

        @Override
        public String toString() {
            return "first new entry in " + dirs.stream().map(d -> d.getFileName().toString()).toList() + " + " + extraMillis + " ms";
        }
    }

    /** A trigger of one kind, drawn from the schedule's generator. */
    interface Option {
        Trigger draw(Random r);
    }

    final long seed;
    final int kills;
    private final Random random;

    KillSchedule(String scenario, int defaultKills) {
        this.seed = Long.getLong("jtune.faults.seed", 20261204L);
        this.kills = Integer.getInteger("jtune.faults.kills", defaultKills);
        this.random = new Random(seed ^ scenario.hashCode());
    }

    private List<Integer> order;
    private int drawn;

    /**
     * The next trigger, with its own random parameters: the first kills take each kind of {@code options}
     * once, in an order drawn from the seed (so even a short schedule kills at every kind of moment), the
     * later ones a kind drawn uniformly.
     */
    Trigger next(List<Option> options) {
        if (order == null || order.size() != options.size()) {
            order = new java.util.ArrayList<>();
            drawn = 0;
            for (int i = 0; i < options.size(); i++) order.add(i);
            java.util.Collections.shuffle(order, random);
        }
        int kind = drawn < order.size() ? order.get(drawn) : random.nextInt(options.size());
        drawn++;
        return options.get(kind).draw(random);
    }

    static Option moment(long fromMillis, long toMillis) {
        return r -> new AfterMillis(fromMillis + (long) (r.nextDouble() * Math.max(1, toMillis - fromMillis)));
    }

    static Option firstWrite(List<Path> dirs, long maxExtraMillis) {
        return r -> new WhenNew(dirs, r.nextInt((int) maxExtraMillis + 1));
    }

    static Option event(Path dir, String regex, long maxExtraMillis) {
        return r -> new WhenPresent(dir, regex, r.nextInt((int) maxExtraMillis + 1));
    }
}
