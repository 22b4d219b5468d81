package org.jtune.models.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.tensor.DType;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * Reads a safetensors checkpoint — one file, or a sharded one through its
 * {@code model.safetensors.index.json} — without copying: every file is memory-mapped read-only
 * into one shared arena, and {@link #get} returns a contiguous {@link Tensor} viewing a slice of the
 * mapping. Tensors of F32, F16, BF16, I32, I8 and U8 can be viewed; other dtypes (F64, I64, BOOL,
 * FP8, ...) are listed and described but {@link #get} refuses them with an error naming the tensor.
 *
 * <p>Closing the reader unmaps the files: tensors obtained from it must not be used afterwards
 * (their access then fails with an IllegalStateException). All headers are validated at open time
 * (see {@link SafetensorsHeader}); every problem is a {@link JtuneException} naming the file and tensor.
 * A reader is safe to share between threads.
 */
public final class SafetensorsReader implements AutoCloseable {
    private final Path source;
    private final Arena arena;
    private final Map<String, TensorInfo> infos;
    private final Map<Path, MemorySegment> dataAreas;
    private final Map<String, String> metadata;
    private final List<SafetensorsFile> files;

    private SafetensorsReader(Path source, Arena arena, Map<String, TensorInfo> infos,
                              Map<Path, MemorySegment> dataAreas, Map<String, String> metadata, List<SafetensorsFile> files) {
        this.source = source;
        this.arena = arena;
        this.infos = Collections.unmodifiableMap(infos);
        this.dataAreas = dataAreas;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.files = List.copyOf(files);
        if (files.stream().anyMatch(f -> f.channel() != null)) MappedWeights.register(this);
    }

    /**
     * Opens {@code path}: a {@code .safetensors} file, a shard index ({@code *.index.json}), or a model
     * folder (its {@code model.safetensors.index.json} when present, else its {@code model.safetensors}).
     */
    public static SafetensorsReader open(Path path) throws JtuneException {
        return open(path, SafetensorsFile.defaultCopyBelowBytes());
    }

    /** As {@link #open(Path)}, reading files smaller than {@code copyBelowBytes} into memory and mapping the others. */
    public static SafetensorsReader open(Path path, long copyBelowBytes) throws JtuneException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(ShardIndex.FILE_NAME);
            if (Files.isRegularFile(index)) return openIndex(index, copyBelowBytes);
            Path single = path.resolve("model.safetensors");
            if (Files.isRegularFile(single)) return openFile(single, copyBelowBytes);
            throw new JtuneException(path + ": no " + ShardIndex.FILE_NAME + " and no model.safetensors in this folder");
        }
        if (!Files.isRegularFile(path)) throw new JtuneException(path + ": no such safetensors file");
        return path.getFileName().toString().endsWith(".index.json") ? openIndex(path, copyBelowBytes) : openFile(path, copyBelowBytes);
    }

    private static SafetensorsReader openFile(Path file, long copyBelowBytes) throws JtuneException {
        Arena arena = Arena.ofShared();
        SafetensorsFile f = null;
        try {
            f = SafetensorsFile.open(file, arena, copyBelowBytes);
            Map<String, TensorInfo> infos = new TreeMap<>(f.header().tensors());
            return new SafetensorsReader(file, arena, infos, Map.of(file, f.data()), new LinkedHashMap<>(f.header().metadata()), List.of(f));
        } catch (JtuneException | RuntimeException e) {
            if (f != null) closeChannel(f);
            arena.close();
            throw e;
        }
    }

    private static SafetensorsReader openIndex(Path indexFile, long copyBelowBytes) throws JtuneException {
        ShardIndex index = ShardIndex.read(indexFile);
        Path folder = indexFile.toAbsolutePath().getParent();
        Arena arena = Arena.ofShared();
        Map<String, SafetensorsFile> shards = new TreeMap<>();
        try {
            for (String shard : new java.util.TreeSet<>(index.weightMap().values())) {
                Path file = folder.resolve(shard);
                if (!Files.isRegularFile(file)) {
                    String example = index.weightMap().entrySet().stream().filter(e -> e.getValue().equals(shard))
                            .findFirst().map(Map.Entry::getKey).orElse("?");
                    throw new JtuneException(indexFile + ": shard " + shard + " (holding '" + example + "') is missing");
                }
                shards.put(shard, SafetensorsFile.open(file, arena, copyBelowBytes));
            }
            Map<String, TensorInfo> infos = new TreeMap<>();
            Map<Path, MemorySegment> areas = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (SafetensorsFile f : shards.values()) {
                areas.put(f.path(), f.data());
                f.header().metadata().forEach(metadata::putIfAbsent);
            }
            for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                TensorInfo info = f.header().tensors().get(e.getKey());
                if (info == null) {
                    throw new JtuneException(indexFile + ": tensor '" + e.getKey() + "' is mapped to " + e.getValue()
                            + " but that shard does not hold it");
                }
                infos.put(e.getKey(), info);
            }
            return new SafetensorsReader(indexFile, arena, infos, areas, metadata, List.copyOf(shards.values()));
        } catch (JtuneException | RuntimeException e) {
            shards.values().forEach(SafetensorsReader::closeChannel);
            arena.close();
            throw e;
        }
    }

    private static void closeChannel(SafetensorsFile f) {
        if (f.channel() == null) return;
        try {
            f.channel().close();
        } catch (java.io.IOException ignored) {
            // read-only
        }
    }

    /** Fails, naming the file, when a mapped file of this reader was truncated since it was opened. */
    public void checkIntact() throws JtuneException {
        for (SafetensorsFile f : files) f.checkIntact();
    }

    /** The file or index this reader was opened on. */
    public Path source() {
        return source;
    }

    /** Tensor names, sorted. */
    public Set<String> names() {
        return infos.keySet();
    }

    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    /** The header entry for {@code name}: dtype, shape, file and byte range. */
    public TensorInfo info(String name) throws JtuneException {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new JtuneException(source + ": no tensor named '" + name + "' (the checkpoint holds " + infos.size() + " tensors)");
        }
        return info;
    }

    /**
     * The {@code __metadata__} string map (for a sharded checkpoint, the shards' maps merged in shard
     * order, the first value of a key winning).
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor, by name; fails on the first tensor of an unsupported dtype. */
    public Map<String, Tensor> getAll() throws JtuneException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : infos.keySet()) out.put(name, get(name));
        return out;
    }

    /** A zero-copy contiguous view of tensor {@code name}, valid until the reader is closed. */
    public Tensor get(String name) throws JtuneException {
        TensorInfo info = info(name);
        DType dtype = info.dtype().tensorDType();
        if (dtype == null) {
            throw new JtuneException(info.file() + ": tensor '" + name + "' has dtype " + info.dtype()
                    + ", which jtune cannot load (supported: F32, F16, BF16, I32, I8, U8)");
        }
        long[] dims = info.shape();
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) {
                throw new JtuneException(info.file() + ": tensor '" + name + "' has dimension " + dims[i]
                        + " (shape " + Arrays.toString(dims) + "), beyond the 2^31-1 a jtune tensor dimension can hold");
            }
            shape[i] = (int) dims[i];
        }
        MemorySegment area = dataAreas.get(info.file());
        if (!arena.scope().isAlive()) throw new IllegalStateException(source + ": reader is closed");
        MemorySegment slice = area.asSlice(info.begin(), info.byteLength());
        return new Tensor(Storage.wrap(slice), dtype, shape, Tensor.contiguousStrides(shape), 0);
    }

    /** The files behind this checkpoint (one, or each shard). */
    public List<Path> files() {
        return List.copyOf(dataAreas.keySet());
    }

    /** Unmaps every file; tensors from this reader become unusable. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            MappedWeights.unregister(this);
            arena.close();
            files.forEach(SafetensorsReader::closeChannel);
        }
    }
}
