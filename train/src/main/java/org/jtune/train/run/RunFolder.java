package org.jtune.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.io.FolderLock;
import org.jtune.io.IoErrors;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
import org.jtune.train.checkpoint.CheckpointStore;
import org.jtune.train.recipe.RecipeConfig;

/**
 * A run folder held by one training process: its exclusive {@link FolderLock} (a second `jtune train`
 * into the same folder is refused, naming the holder), the repair of an output switch a kill
 * interrupted, and the rule that a fresh run never reuses a folder holding another run's files (its
 * metrics.jsonl would be truncated and its config.yaml replaced while its adapter and report stay);
 * such a folder is resumed with --resume, or a new one chosen. One exception: a run of the same
 * recipe that was stopped before its first complete checkpoint has nothing to keep, so it simply
 * starts again (with or without --resume), saying so. The folder may not be, or lie inside, the base
 * model's folder.
 */
final class RunFolder implements AutoCloseable {
    /** What a run writes into its folder: a folder holding any of these holds a run. */
    static final List<String> RUN_FILES = List.of("config.yaml", "metrics.jsonl", "checkpoints", "adapter", "model", "report.html",
            "balance.json");

    private final Path dir;
    private final FolderLock lock;
    private final boolean resume;

    private RunFolder(Path dir, FolderLock lock, boolean resume) {
        this.dir = dir;
        this.lock = lock;
        this.resume = resume;
    }

    /** Whether the run continues from a checkpoint (false: it starts at step 0, also when --resume found none). */
    boolean resume() {
        return resume;
    }

    /** Locks {@code dir} for this run and checks that a fresh run may write there (or a resumed one has checkpoints). */
    static RunFolder open(Path dir, RecipeConfig recipe, boolean resume, FineTune.Listener listener) throws JtuneException {
        if (recipe.baseModel() != null) {
            OverwriteGuard.refuse("the run folder", dir, "base_model", recipe.baseModel());
            if (OverwriteGuard.inside(dir, recipe.baseModel())) {
                throw new JtuneException("the run folder " + dir + " is inside the base model's folder " + recipe.baseModel()
                        + ": choose an output_dir outside it (the base model is an input and stays untouched)");
            }
        }
        FolderLock lock = FolderLock.acquire(dir, resume ? "resuming a training run" : "training");
        try {
            if (lock.staleNote() != null) listener.info(lock.staleNote());
            for (String output : List.of("adapter", "model")) {
                String note = StagedFolder.recover(dir.resolve(output));
                if (note != null) listener.info(note);
            }
            boolean hasCheckpoint = !new CheckpointStore(dir, new SafetensorsCodec()).list().isEmpty();
            List<String> present = new ArrayList<>();
            for (String f : RUN_FILES) if (Files.exists(dir.resolve(f))) present.add(f);
            if (resume && hasCheckpoint) return new RunFolder(dir, lock, true);
            if (resume && !present.contains("config.yaml")) {
                throw new JtuneException(dir + " holds no run to resume (no config.yaml, no checkpoint)");
            }
            if (!present.isEmpty()) {
                boolean restartable = !hasCheckpoint && RESTARTABLE.containsAll(present) && present.contains("config.yaml");
                List<String> diffs = restartable ? ResumeCheck.recipeDiffs(readConfig(dir), recipe.toYaml()) : List.of();
                if (restartable && diffs.isEmpty()) {
                    listener.info("the run in " + dir + " stopped before its first complete checkpoint: starting it again from step 0");
                } else if (restartable && resume) {
                    throw new JtuneException("cannot resume " + dir + ": it has no complete checkpoint, and its recipe differs: "
                            + String.join("; ", diffs));
                } else {
                    throw new JtuneException("run folder " + dir + " already holds a run (" + String.join(", ", present) + "); "
                            + (hasCheckpoint ? "resume it with --resume " + dir + ", or choose another --output-dir"
                            : "choose another --output-dir (or delete the folder)") + ": a new run would overwrite its files");
                }
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new JtuneException(IoErrors.cannot("create the run folder", dir, e), e);
            }
            return new RunFolder(dir, lock, false);
        } catch (JtuneException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** What a run stopped before its first checkpoint leaves: restarting it loses nothing. */
    private static final List<String> RESTARTABLE = List.of("config.yaml", "metrics.jsonl", "checkpoints", "balance.json");

    private static String readConfig(Path dir) throws JtuneException {
        try {
            return Files.readString(dir.resolve("config.yaml"));
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("read", dir.resolve("config.yaml"), e), e);
        }
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() {
        lock.close();
    }
}
