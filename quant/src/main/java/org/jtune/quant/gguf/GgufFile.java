package org.jtune.quant.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;

/**
 * An open GGUF file: version, alignment, metadata, tensor infos in file order, and the data section,
 * memory-mapped read-only. {@link #data} returns a zero-copy slice of the mapping; slices stay valid
 * until {@link #close}. Made by {@link GgufReader#open}.
 */
public final class GgufFile implements AutoCloseable {
    /** The alignment of tensor data when general.alignment is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final int version;
    private final long alignment;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long dataOffset;
    private final MemorySegment mapping;
    private final Arena arena;

    GgufFile(Path path, int version, long alignment, GgufMetadata metadata, Map<String, GgufTensorInfo> tensors, long dataOffset,
             MemorySegment mapping, Arena arena) {
        this.path = path;
        this.version = version;
        this.alignment = alignment;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataOffset = dataOffset;
        this.mapping = mapping;
        this.arena = arena;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public Collection<GgufTensorInfo> tensors() {
        return tensors.values();
    }

    public GgufTensorInfo tensor(String name) throws GgufException {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) throw new GgufException(path + ": no tensor named " + name);
        return t;
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** The bytes of a tensor, in place (a slice of the read-only mapping). */
    public MemorySegment data(GgufTensorInfo t) {
        return mapping.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    public MemorySegment data(String name) throws GgufException {
        return data(tensor(name));
    }

    /** The whole mapped file. */
    public MemorySegment mapping() {
        return mapping;
    }

    @Override
    public void close() {
        arena.close();
    }
}
