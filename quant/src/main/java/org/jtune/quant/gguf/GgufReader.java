package org.jtune.quant.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.quant.GgmlType;

/**
 * Reads GGUF v3 (and v2, which has the same layout; v1's 32-bit counts are refused) little-endian files
 * by memory-mapping them: header, metadata of every value type (nested arrays included), tensor infos,
 * alignment (general.alignment, default 32), and the data section left in place.
 *
 * <p>Hostile input never gets further than a named {@link GgufException}: every count and length is
 * checked against the bytes left in the file before anything is allocated (an array of n values needs at
 * least n times the smallest encoding of its type), nesting is limited, strings must be UTF-8,
 * dimensions must be positive and their product must fit, a tensor's type must be one ggml defines and
 * its rows whole blocks, its data aligned, inside the file and not overlapping another's.
 */
public final class GgufReader {
    static final int MAGIC = 0x46554747;            // "GGUF" read as a little-endian uint32
    static final int MAX_DIMS = 4;                   // GGML_MAX_DIMS
    static final int MAX_NESTING = 8;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final MemorySegment s;
    private final long size;
    private long pos;

    private GgufReader(Path path, MemorySegment s) {
        this.path = path;
        this.s = s;
        this.size = s.byteSize();
    }

    /** Opens and maps a GGUF file; the caller closes it. */
    public static GgufFile open(Path path) throws GgufException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = ch.size() == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile file = new GgufReader(path, mapping).parse(arena);
            org.jtune.tensor.ResidentMemory.lockIfAsked(mapping, path.toString());
            return file;
        } catch (IOException e) {
            arena.close();
            throw new GgufException(path + ": cannot read: " + e.getMessage(), e);
        } catch (GgufException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private GgufException error(long at, String what) {
        return new GgufException(path + ": " + what + " (at byte " + at + " of " + size + ")");
    }

    private GgufFile parse(Arena arena) throws GgufException {
        if (size < 24) throw error(0, "too short for a GGUF header (24 bytes: magic, version, tensor and metadata counts)");
        int magic = s.get(U32, 0);
        if (magic != MAGIC) {
            throw error(0, String.format("not a GGUF file: magic is %02x %02x %02x %02x, expected 47 47 55 46 (\"GGUF\")",
                    s.get(ValueLayout.JAVA_BYTE, 0), s.get(ValueLayout.JAVA_BYTE, 1), s.get(ValueLayout.JAVA_BYTE, 2), s.get(ValueLayout.JAVA_BYTE, 3)));
        }
        int version = s.get(U32, 4);
        if (version == 1) throw error(4, "GGUF version 1 (32-bit counts) is not supported; convert the file to version 3");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw error(4, "a big-endian GGUF file; jtune reads little-endian GGUF only");
            }
            throw error(4, "unsupported GGUF version " + Integer.toUnsignedString(version) + " (2 and 3 are read)");
        }
        pos = 8;
        long tensorCount = u64("the tensor count");
        long kvCount = u64("the metadata count");
        checkCount(16, kvCount, 8 + 4 + 1, "metadata count " + Long.toUnsignedString(kvCount));
        Map<String, GgufValue> kvs = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long at = pos;
            String key = string("metadata key #" + i);
            if (key.isEmpty()) throw error(at, "metadata key #" + i + " is empty");
            GgufValueType type = valueType("metadata " + key);
            GgufValue value = value(type, key, 0);
            if (kvs.putIfAbsent(key, value) != null) throw error(at, "metadata key " + key + " appears twice");
        }
        GgufMetadata metadata = new GgufMetadata(path.toString(), kvs);
        long alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue a = kvs.get("general.alignment");
        if (a != null) {
            if (a.type() != GgufValueType.UINT32) throw error(16, "general.alignment is " + a + ", a uint32 expected");
            alignment = (Long) a.value();
            if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw error(16, "general.alignment " + alignment + " is not a power of two");
        }
        checkCount(8, tensorCount, 8 + 4 + 4 + 8, "tensor count " + Long.toUnsignedString(tensorCount));
        List<GgufTensorInfo> infos = new ArrayList<>();
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            GgufTensorInfo t = tensorInfo(i);
            if (byName.putIfAbsent(t.name(), t) != null) throw error(at, "tensor " + t.name() + " appears twice");
            infos.add(t);
        }
        long dataOffset = align(pos, alignment);
        if (tensorCount > 0 && dataOffset > size) throw error(pos, "the data section starts past the end of the file");
        long dataSize = Math.max(0, size - dataOffset);
        for (GgufTensorInfo t : infos) {
            if (t.offset() % alignment != 0) {
                throw error(dataOffset, "tensor " + t.name() + ": data offset " + t.offset() + " is not a multiple of the alignment " + alignment);
            }
            if (t.offset() < 0 || t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                throw error(dataOffset + Math.max(0, t.offset()), "tensor " + t.name() + ": its " + t.byteSize() + " bytes at data offset "
                        + Long.toUnsignedString(t.offset()) + " run past the end of the file (data section of " + dataSize + " bytes)");
            }
        }
        List<GgufTensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensorInfo prev = sorted.get(i - 1), t = sorted.get(i);
            if (prev.offset() + prev.byteSize() > t.offset()) {
                throw error(dataOffset + t.offset(), "tensors " + prev.name() + " and " + t.name() + " overlap");
            }
        }
        return new GgufFile(path, version, alignment, metadata, byName, dataOffset, s, arena);
    }

    static long align(long offset, long alignment) {
        return offset + (alignment - offset % alignment) % alignment;
    }

    /** A count of items of at least minBytes each must fit in the rest of the file. */
    private void checkCount(long at, long count, long minBytes, String what) throws GgufException {
        if (count < 0 || count > (size - pos) / minBytes) {
            throw error(at, what + " is more than the " + (size - pos) + " bytes left in the file can hold");
        }
    }

    private void need(long n, String what) throws GgufException {
        if (n < 0 || n > size - pos) throw error(pos, what + " runs past the end of the file");
    }

    private long u64(String what) throws GgufException {
        need(8, what);
        long v = s.get(U64, pos);
        pos += 8;
        return v;
    }

    private int u32(String what) throws GgufException {
        need(4, what);
        int v = s.get(U32, pos);
        pos += 4;
        return v;
    }

    private String string(String what) throws GgufException {
        long at = pos;
        long len = u64(what + " (length)");
        if (len < 0 || len > size - pos) {
            throw error(at, what + ": a string of " + Long.toUnsignedString(len) + " bytes is longer than the " + (size - pos) + " bytes left");
        }
        if (len > Integer.MAX_VALUE - 16) throw error(at, what + ": a string of " + len + " bytes is too long");
        byte[] bytes = s.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error(at, what + " is not valid UTF-8");
        }
    }

    private GgufValueType valueType(String what) throws GgufException {
        long at = pos;
        int id = u32(what + " (type)");
        GgufValueType t = GgufValueType.byId(Integer.toUnsignedLong(id));
        if (t == null) throw error(at, what + ": unknown value type " + Integer.toUnsignedString(id));
        return t;
    }

    private GgufValue value(GgufValueType type, String key, int depth) throws GgufException {
        long at = pos;
        switch (type) {
            case STRING:
                return GgufValue.string(string("metadata " + key));
            case ARRAY: {
                if (depth >= MAX_NESTING) throw error(at, "metadata " + key + ": arrays nested deeper than " + MAX_NESTING);
                GgufValueType et = valueType("metadata " + key + " (array element)");
                long n = u64("metadata " + key + " (array length)");
                if (n < 0 || n > (size - pos) / et.minBytes() || n > Integer.MAX_VALUE - 16) {
                    throw error(at, "metadata " + key + ": an array of " + Long.toUnsignedString(n) + " " + et
                            + " values is longer than the " + (size - pos) + " bytes left can hold");
                }
                int len = (int) n;
                return switch (et) {
                    case STRING -> {
                        String[] a = new String[len];
                        for (int i = 0; i < len; i++) a[i] = string("metadata " + key + "[" + i + "]");
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                    case ARRAY -> {
                        GgufValue[] a = new GgufValue[len];
                        for (int i = 0; i < len; i++) a[i] = value(GgufValueType.ARRAY, key + "[" + i + "]", depth + 1);
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                    case FLOAT32 -> {
                        float[] a = new float[len];
                        MemorySegment.copy(s, F32, pos, a, 0, len);
                        pos += 4L * len;
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                    case FLOAT64 -> {
                        double[] a = new double[len];
                        MemorySegment.copy(s, F64, pos, a, 0, len);
                        pos += 8L * len;
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                    case BOOL -> {
                        boolean[] a = new boolean[len];
                        for (int i = 0; i < len; i++) a[i] = bool(key + "[" + i + "]");
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                    default -> {
                        long[] a = new long[len];
                        for (int i = 0; i < len; i++) a[i] = integer(et);
                        yield new GgufValue(GgufValueType.ARRAY, et, a);
                    }
                };
            }
            case FLOAT32:
                need(4, "metadata " + key);
                pos += 4;
                return GgufValue.f32(s.get(F32, at));
            case FLOAT64:
                need(8, "metadata " + key);
                pos += 8;
                return GgufValue.f64(s.get(F64, at));
            case BOOL:
                need(1, "metadata " + key);
                return GgufValue.bool(bool(key));
            default:
                need(type.size(), "metadata " + key);
                return GgufValue.integer(type, integer(type));
        }
    }

    private boolean bool(String key) throws GgufException {
        need(1, "metadata " + key);
        byte b = s.get(ValueLayout.JAVA_BYTE, pos);
        if (b != 0 && b != 1) throw error(pos, "metadata " + key + ": a bool must be 0 or 1, found " + (b & 0xFF));
        pos++;
        return b == 1;
    }

    /** An integer of the given type, bounds already checked by the caller. */
    private long integer(GgufValueType t) {
        long at = pos;
        pos += t.size();
        return switch (t) {
            case UINT8 -> s.get(ValueLayout.JAVA_BYTE, at) & 0xFFL;
            case INT8 -> s.get(ValueLayout.JAVA_BYTE, at);
            case UINT16 -> s.get(U16, at) & 0xFFFFL;
            case INT16 -> s.get(U16, at);
            case UINT32 -> s.get(U32, at) & 0xFFFFFFFFL;
            case INT32 -> s.get(U32, at);
            default -> s.get(U64, at);
        };
    }

    private GgufTensorInfo tensorInfo(long index) throws GgufException {
        long at = pos;
        String name = string("tensor #" + index + " name");
        int rank = u32("tensor " + name + " rank");
        if (rank < 0 || rank > MAX_DIMS) throw error(pos - 4, "tensor " + name + ": " + Integer.toUnsignedString(rank) + " dimensions (at most " + MAX_DIMS + ")");
        long[] dims = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            long dimAt = pos;
            dims[d] = u64("tensor " + name + " dimension " + d);
            if (dims[d] <= 0) throw error(dimAt, "tensor " + name + ": dimension " + d + " is " + Long.toUnsignedString(dims[d]) + " (must be positive)");
            if (elements > Long.MAX_VALUE / dims[d]) throw error(dimAt, "tensor " + name + ": the dimensions' product overflows 63 bits");
            elements *= dims[d];
        }
        long typeAt = pos;
        int typeId = u32("tensor " + name + " type");
        GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId));
        if (type == null) throw error(typeAt, "tensor " + name + ": unknown ggml type " + Integer.toUnsignedString(typeId));
        long first = rank == 0 ? 1 : dims[0];
        if (first % type.blockSize() != 0) {
            throw error(typeAt, "tensor " + name + ": rows of " + first + " elements are not whole " + type + " blocks of " + type.blockSize());
        }
        long offset = u64("tensor " + name + " offset");
        long rows = elements / first;
        if (type.rowBytes(first) > 0 && rows > Long.MAX_VALUE / type.rowBytes(first)) {
            throw error(at, "tensor " + name + ": its byte size overflows 63 bits");
        }
        return new GgufTensorInfo(name, dims, type, offset);
    }
}
