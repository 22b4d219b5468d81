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

    /**
     * A tensor's values widened to F32 (row-major, ne[0] contiguous) with ggml's dequantizer of its type;
     * a named error for types jtune cannot compute with or tensors beyond 2^31 − 1 elements.
     */
    public float[] dequantize(GgufTensorInfo t) throws GgufException {
        org.jtune.quant.BlockFormat f = t.type().format();
        if (f == null) throw new GgufException(path + ": tensor " + t.name() + " is " + t.type() + ", which jtune cannot dequantize "
                + "(F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K)");
        if (t.elementCount() > Integer.MAX_VALUE - 8) throw new GgufException(path + ": tensor " + t.name() + " has " + t.elementCount() + " elements, too many for one array");
        float[] out = new float[(int) t.elementCount()];
        int cols = (int) t.rowLength();
        long rowBytes = f.rowBytes(cols);
        MemorySegment data = data(t);
        for (long r = 0; r < t.rowCount(); r++) f.dequantizeRow(data, r * rowBytes, out, (int) (r * cols), cols);
        return out;
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
