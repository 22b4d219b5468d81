package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The bytes under one or more tensors, and the {@link Device} they live on. Host storage is a
 * {@link MemorySegment}: on the Java heap (an array of the dtype's natural Java type, so the GC sizes
 * and frees it), off-heap (an arena) or a region of a memory-mapped file; little-endian, as
 * safetensors and GGUF store data. Device storage is a {@link DeviceMemory} handle owned by that
 * device's backend: the host cannot address it, so {@link #segment()} and the element accessors
 * fail with a message that says where the data is and how to bring it to the host.
 */
public final class Storage {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final MemorySegment segment; // host memory; null on a device
    private final DeviceMemory memory;   // device memory; null on the host
    private final BlockCodec codec;      // the row format of DType.BLOCK data; null otherwise

    private Storage(MemorySegment segment, DeviceMemory memory) {
        this(segment, memory, null);
    }

    private Storage(MemorySegment segment, DeviceMemory memory, BlockCodec codec) {
        this.segment = segment;
        this.memory = memory;
        this.codec = codec;
    }

    /** Host memory holding rows of a block-quantized format (the storage of a {@link DType#BLOCK} tensor); no copy. */
    public static Storage blocks(MemorySegment segment, BlockCodec codec) {
        if (codec == null) throw new IllegalArgumentException("block storage needs a codec");
        return new Storage(segment, null, codec);
    }

    /** The row format of block-quantized storage, or null for plain storage. */
    public BlockCodec codec() {
        return codec;
    }

    /** Zeroed heap storage for {@code numel} elements of {@code dtype}. */
    public static Storage allocate(DType dtype, long numel) {
        if (numel < 0 || numel > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("cannot allocate " + numel + " elements of " + dtype
                    + " on the heap (limit " + (Integer.MAX_VALUE - 16) + ")");
        }
        int n = (int) numel;
        HeapGrowthLimit.beforeAllocation(numel * dtype.byteSize());
        MemorySegment seg = switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[n]);
            case F16, BF16 -> MemorySegment.ofArray(new short[n]);
            case I32 -> MemorySegment.ofArray(new int[n]);
            case I8, U8 -> MemorySegment.ofArray(new byte[n]);
            case BLOCK -> throw new IllegalArgumentException("block-quantized storage is made by quantizing rows with a BlockCodec "
                    + "(Tensor.blockQuantized), not allocated element by element");
        };
        return new Storage(seg, null);
    }

    /** Wraps existing host memory (an arena allocation, a mapped file region); no copy. */
    public static Storage wrap(MemorySegment segment) {
        return new Storage(segment, null);
    }

    /** Wraps memory a device backend allocated. */
    public static Storage onDevice(DeviceMemory memory) {
        if (memory.device().isHost()) throw new IllegalArgumentException("host memory is a MemorySegment: use Storage.wrap");
        return new Storage(null, memory);
    }

    public Device device() {
        return memory == null ? Device.CPU : memory.device();
    }

    public boolean isHost() {
        return memory == null;
    }

    /** The host memory; an error for storage on a device. */
    public MemorySegment segment() {
        if (memory != null) {
            throw new IllegalStateException("this tensor lives on " + memory.device() + ", not in host memory: copy it to the host first "
                    + "with tensor.to(Device.CPU) (or read it with toFloatArray(), which copies)");
        }
        return segment;
    }

    /** The device memory; an error for host storage. */
    public DeviceMemory deviceMemory() {
        if (memory == null) throw new IllegalStateException("this storage is host memory, not device memory");
        return memory;
    }

    public long byteSize() {
        return memory == null ? segment.byteSize() : memory.byteSize();
    }

    /** The backing float[] when this is heap F32 storage, else null (kernels take faster paths on arrays). */
    public float[] floatArray() {
        return memory == null && segment.heapBase().orElse(null) instanceof float[] a ? a : null;
    }

    /** Element {@code index} (in elements of {@code dtype}) converted to float. */
    public float getFloat(DType dtype, long index) {
        MemorySegment segment = segment();
        return switch (dtype) {
            case F32 -> segment.get(F32, index << 2);
            case BF16 -> Half.bf16ToFloat(segment.get(I16, index << 1));
            case F16 -> Half.f16ToFloat(segment.get(I16, index << 1));
            case I32 -> segment.get(I32, index << 2);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, index);
            case U8 -> segment.get(ValueLayout.JAVA_BYTE, index) & 0xff;
            case BLOCK -> throw blockElement();
        };
    }

    private IllegalStateException blockElement() {
        return new IllegalStateException((codec == null ? "block-quantized" : codec.name()) + " data has no single elements: "
                + "convert the tensor with to(DType.F32) first");
    }

    /** Stores {@code v} as element {@code index}, rounding to nearest even for 16-bit floats and truncating for integers. */
    public void setFloat(DType dtype, long index, float v) {
        MemorySegment segment = segment();
        switch (dtype) {
            case F32 -> segment.set(F32, index << 2, v);
            case BF16 -> segment.set(I16, index << 1, Half.floatToBf16(v));
            case F16 -> segment.set(I16, index << 1, Half.floatToF16(v));
            case I32 -> segment.set(I32, index << 2, (int) v);
            case I8 -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) v);
            case U8 -> segment.set(ValueLayout.JAVA_BYTE, index, (byte) (int) v);
            case BLOCK -> throw blockElement();
        }
    }

    public int getInt(DType dtype, long index) {
        return switch (dtype) {
            case I32 -> segment().get(I32, index << 2);
            case I8 -> segment().get(ValueLayout.JAVA_BYTE, index);
            case U8 -> segment().get(ValueLayout.JAVA_BYTE, index) & 0xff;
            default -> (int) getFloat(dtype, index);
        };
    }

    public void setInt(DType dtype, long index, int v) {
        switch (dtype) {
            case I32 -> segment().set(I32, index << 2, v);
            case I8, U8 -> segment().set(ValueLayout.JAVA_BYTE, index, (byte) v);
            default -> setFloat(dtype, index, v);
        }
    }
}
