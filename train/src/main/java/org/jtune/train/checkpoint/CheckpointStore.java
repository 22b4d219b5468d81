package org.jtune.train.checkpoint;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jtune.tensor.Tensor;
import org.jtune.train.optim.OptimizerState;

/**
 * The checkpoints of a run, under {@code <run>/checkpoints/}:
 * <pre>
 *   checkpoint-&lt;step&gt;/
 *     trainer_state.json         {@link TrainerState}
 *     optimizer.json             optimizer kind and step
 *     optimizer.&lt;ext&gt;            optimizer tensors (exp_avg, exp_avg_sq, momentum_buffer per parameter)
 *     &lt;weights&gt;.&lt;ext&gt;            adapter_model or model tensors
 *     extra files                 adapter_config.json, …
 *     manifest.json              written last: step, and size + SHA-256 of every file above
 * </pre>
 * A checkpoint is assembled in a hidden {@code .checkpoint-<step>.partial} folder, every file
 * written atomically and synced, the manifest last, and the folder then renamed into place: a
 * crash leaves either the previous set of checkpoints or the new one, never a half-written one.
 * Loading verifies every checksum first. Tensor bytes come from a {@link TensorCodec}.
 */
public final class CheckpointStore {
    static final Set<String> RESERVED = Set.of(CheckpointManifest.FILE_NAME, "trainer_state.json", "optimizer.json");
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final TensorCodec codec;

    public CheckpointStore(Path runDir, TensorCodec codec) {
        this.root = runDir.resolve("checkpoints");
        this.codec = codec;
    }

    public Path root() {
        return root;
    }

    /** The folder a checkpoint of {@code step} has (whether or not it exists). */
    public Path folder(long step) {
        return root.resolve(String.format("checkpoint-%06d", step));
    }

    /** Writes a checkpoint of {@code c.state().globalStep()}, replacing one of the same step. Returns its folder. */
    public Path save(Checkpoint c) throws CheckpointException {
        long step = c.state().globalStep();
        Path target = folder(step);
        Path partial = root.resolve("." + target.getFileName() + ".partial");
        for (String name : c.extraFiles().keySet()) {
            if (name.endsWith("." + codec.extension())) throw new IllegalArgumentException("extra file " + name + " would be taken for tensors");
        }
        try {
            Files.createDirectories(root);
            deleteTree(partial);
            Files.createDirectories(partial);
            List<FileEntry> files = new ArrayList<>();
            files.add(text(partial.resolve("trainer_state.json"), c.state().toJson()));
            OptimizerState opt = c.optimizer();
            String optTensors = "optimizer." + codec.extension();
            files.add(text(partial.resolve("optimizer.json"), JSON.createObjectNode()
                    .put("kind", opt.kind()).put("step", opt.step()).put("tensors", optTensors).toPrettyString() + "\n"));
            files.add(FileEntry.of(AtomicFile.write(partial.resolve(optTensors), out -> codec.write(opt.tensors(), out))));
            files.add(FileEntry.of(AtomicFile.write(partial.resolve(c.weightsName() + "." + codec.extension()), out -> codec.write(c.weights(), out))));
            for (var e : c.extraFiles().entrySet()) files.add(text(partial.resolve(e.getKey()), e.getValue()));
            var manifest = new CheckpointManifest(step, Instant.now().toString(), files);
            text(partial.resolve(CheckpointManifest.FILE_NAME), manifest.toJson());
            if (Files.exists(target)) {
                Path old = root.resolve("." + target.getFileName() + ".old");
                deleteTree(old);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(old);
            } else {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            }
            AtomicFile.syncDirectory(root);
            return target;
        } catch (IOException e) {
            try {
                deleteTree(partial); // a full disk must not leave a half checkpoint that holds the space
            } catch (IOException ignored) {
                // the next save or prune removes it
            }
            throw new CheckpointException(org.jtune.io.IoErrors.cannot("write checkpoint", target, e)
                    + " (the earlier checkpoints are intact)", e);
        }
    }

    private static FileEntry text(Path file, String s) throws IOException {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return FileEntry.of(AtomicFile.write(file, out -> out.write(b)));
    }

    /** Complete checkpoints (those with a manifest), oldest step first. */
    public List<Path> list() throws CheckpointException {
        if (!Files.isDirectory(root)) return List.of();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (stepOf(p) >= 0 && Files.isRegularFile(p.resolve(CheckpointManifest.FILE_NAME))) out.add(p);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        out.sort(Comparator.comparingLong(CheckpointStore::stepOf));
        return out;
    }

    public Optional<Path> latest() throws CheckpointException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** A checkpoint loaded for a resume, and the newer ones passed over because they were damaged (with why). */
    public record Loaded(Path folder, Checkpoint checkpoint, List<String> skipped) {}

    /**
     * The newest checkpoint that loads and verifies; newer ones that do not (a file corrupted or
     * truncated after it was written) are passed over and named in {@link Loaded#skipped()}. Empty
     * when there is no checkpoint; an error naming each problem when none is intact.
     */
    public Optional<Loaded> loadNewestIntact() throws CheckpointException {
        List<Path> all = list();
        List<String> skipped = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(new Loaded(all.get(i), load(all.get(i)), skipped));
            } catch (CheckpointException e) {
                skipped.add(all.get(i).getFileName() + " is damaged (" + e.getMessage() + ")");
            }
        }
        if (skipped.isEmpty()) return Optional.empty();
        throw new CheckpointException("no intact checkpoint in " + root + ": " + String.join("; ", skipped));
    }

    /** Loads a checkpoint folder after verifying every file against its manifest. */
    public Checkpoint load(Path dir) throws CheckpointException {
        CheckpointManifest manifest = CheckpointManifest.read(dir);
        manifest.verify(dir);
        try {
            Path statePath = dir.resolve("trainer_state.json");
            TrainerState state = TrainerState.fromJson(Files.readString(require(manifest, dir, "trainer_state.json")), statePath.toString());
            Path optJson = require(manifest, dir, "optimizer.json");
            JsonNode o = JSON.readTree(Files.readString(optJson));
            if (!o.path("kind").isTextual() || !o.path("step").canConvertToExactIntegral() || !o.path("tensors").isTextual()) {
                throw new CheckpointException(optJson + ": expected {kind, step, tensors}");
            }
            Map<String, Tensor> optTensors = codec.read(require(manifest, dir, o.get("tensors").asText()));
            OptimizerState opt = new OptimizerState(o.get("kind").asText(), o.get("step").longValue(), optTensors);
            String weightsFile = manifest.files().stream().map(FileEntry::name)
                    .filter(n -> n.endsWith("." + codec.extension()) && !n.startsWith("optimizer.")).findFirst()
                    .orElseThrow(() -> new CheckpointException(dir + ": no weights file ending in ." + codec.extension() + " in the manifest"));
            Map<String, Tensor> weights = codec.read(dir.resolve(weightsFile));
            Map<String, String> extra = new java.util.TreeMap<>();
            for (FileEntry f : manifest.files()) {
                if (!RESERVED.contains(f.name()) && !f.name().equals(weightsFile) && !f.name().startsWith("optimizer.")) {
                    extra.put(f.name(), Files.readString(dir.resolve(f.name())));
                }
            }
            String weightsName = weightsFile.substring(0, weightsFile.length() - codec.extension().length() - 1);
            return new Checkpoint(state, opt, weightsName, weights, extra);
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot read checkpoint: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps the newest {@code keep} checkpoints plus the one of {@code protectStep} (the best so far;
     * null for none), deletes the rest and any leftover partial folders. Returns the deleted folders.
     */
    public List<Path> prune(int keep, Long protectStep) throws CheckpointException {
        if (keep < 1) throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        List<Path> all = list(), deleted = new ArrayList<>();
        try {
            for (int i = 0; i < all.size() - keep; i++) {
                Path p = all.get(i);
                if (protectStep != null && stepOf(p) == protectStep) continue;
                retire(p);
                deleted.add(p);
            }
            if (Files.isDirectory(root)) {
                try (Stream<Path> s = Files.list(root)) {
                    for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".checkpoint-")).toList()) deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot remove old checkpoints in " + root + ": " + org.jtune.io.IoErrors.reason(e), e);
        }
        return deleted;
    }

    /** The step in a folder name checkpoint-N, or -1. */
    public static long stepOf(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private static Path require(CheckpointManifest manifest, Path dir, String name) throws CheckpointException {
        if (manifest.entry(name) == null) throw new CheckpointException(dir + ": " + name + " is not listed in " + CheckpointManifest.FILE_NAME);
        return dir.resolve(name);
    }

    /**
     * Deletes a published checkpoint: renamed to a hidden ".checkpoint-N.deleting" folder first (atomic), so that a kill
     * during the deletion leaves no folder under the checkpoint's name whose manifest lists files already gone (a kill
     * test found checkpoint-000001 so: deleted file by file, trainer_state.json first); prune removes the hidden rest.
     */
    private void retire(Path p) throws IOException {
        Path hidden = root.resolve("." + p.getFileName() + ".deleting");
        deleteTree(hidden);
        Files.move(p, hidden, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(hidden);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
