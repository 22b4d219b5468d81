package org.jtune.quant.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.io.AtomicFile;
import org.jtune.quant.GgmlType;

/**
 * Writes a GGUF v3 little-endian file: metadata in insertion order, tensor infos, then each tensor's data
 * padded to the alignment (32, or general.alignment when set through {@link #alignment}). Tensor data is
 * produced when the file is written (a {@link TensorBytes} callback, so a model can be quantized tensor by
 * tensor without holding it all). The file is written through {@link AtomicFile} (temporary file, fsync,
 * atomic rename): a failure never leaves a half-written file.
 */
public final class GgufWriter {
    /** Produces exactly byteSize bytes of one tensor's data into the channel. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Pending(GgufTensorInfo info, TensorBytes bytes) {}

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, Boolean> names = new LinkedHashMap<>();
    private long alignment = GgufFile.DEFAULT_ALIGNMENT;
    private long nextOffset;

    /** Sets a metadata value (replacing an earlier one of the same key, keeping its position). */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("empty metadata key");
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(Map<String, GgufValue> values) {
        values.forEach(this::put);
        return this;
    }

    /** Sets general.alignment (a power of two, a multiple of 8 as the spec asks); call before adding tensors. */
    public GgufWriter alignment(int bytes) {
        if (bytes < 8 || (bytes & (bytes - 1)) != 0) throw new IllegalArgumentException("alignment must be a power of two ≥ 8: " + bytes);
        if (!tensors.isEmpty()) throw new IllegalStateException("set the alignment before adding tensors");
        alignment = bytes;
        put("general.alignment", GgufValue.u32(bytes));
        return this;
    }

    /** Adds a tensor; dims in ggml order (ne[0] = row length). bytes must produce exactly the tensor's byte size. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorBytes bytes) {
        if (names.put(name, Boolean.TRUE) != null) throw new IllegalArgumentException("tensor " + name + " added twice");
        if (dims.length > GgufReader.MAX_DIMS) throw new IllegalArgumentException(name + ": more than " + GgufReader.MAX_DIMS + " dimensions");
        for (long d : dims) if (d <= 0) throw new IllegalArgumentException(name + ": non-positive dimension " + d);
        GgufTensorInfo info = new GgufTensorInfo(name, dims, type, nextOffset);
        long size = info.byteSize();       // checks whole blocks
        tensors.add(new Pending(info, bytes));
        nextOffset = GgufReader.align(nextOffset + size, alignment);
        return this;
    }

    /** Adds a tensor whose bytes are already in memory. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment data) {
        long expected = new GgufTensorInfo(name, dims, type, 0).byteSize();
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes given, " + type + " " + java.util.Arrays.toString(dims) + " needs " + expected);
        }
        return addTensor(name, type, dims, out -> {
            ByteBuffer chunk = ByteBuffer.allocateDirect((int) Math.min(1 << 20, Math.max(1, expected)));
            MemorySegment buffer = MemorySegment.ofBuffer(chunk);
            for (long done = 0; done < expected; ) {
                int n = (int) Math.min(chunk.capacity(), expected - done);
                MemorySegment.copy(data, done, buffer, 0, n);
                chunk.clear().limit(n);
                while (chunk.hasRemaining()) out.write(chunk);
                done += n;
            }
        });
    }

    /** Writes the file atomically through {@link AtomicFile} (temporary file, fsync, rename). */
    public void write(Path target) throws GgufException {
        try {
            AtomicFile.writeChannel(target, ch -> {
                ByteBuffer header = ByteBuffer.wrap(header()).order(ByteOrder.LITTLE_ENDIAN);
                long written = 0;
                while (header.hasRemaining()) written += ch.write(header);
                long dataStart = pad(ch, written);
                for (Pending p : tensors) {
                    if (ch.position() - dataStart != p.info.offset()) throw new IllegalStateException("offset bookkeeping");
                    CountingChannel counting = new CountingChannel(ch);
                    p.bytes.writeTo(counting);
                    if (counting.count != p.info.byteSize()) {
                        throw new SizeMismatch(target + ": tensor " + p.info.name() + " produced " + counting.count + " bytes, "
                                + p.info.byteSize() + " expected for " + p.info.type() + " " + java.util.Arrays.toString(p.info.dims()));
                    }
                    pad(ch, ch.position());
                }
            });
        } catch (SizeMismatch e) {
            throw new GgufException(e.getMessage());
        } catch (IOException e) {
            throw new GgufException(target + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** A tensor callback that wrote the wrong number of bytes (aborts the atomic write). */
    private static final class SizeMismatch extends IOException {
        SizeMismatch(String message) {
            super(message);
        }
    }

    private long pad(FileChannel ch, long position) throws IOException {
        long padded = GgufReader.align(position, alignment);
        ByteBuffer zeros = ByteBuffer.allocate((int) (padded - position));
        while (zeros.hasRemaining()) ch.write(zeros);
        return padded;
    }

    /** Header, metadata and tensor infos, as the bytes GGUF v3 lays them out. */
    byte[] header() {
        Bytes b = new Bytes();
        b.u32(GgufReader.MAGIC);
        b.u32(3);
        b.u64(tensors.size());
        b.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            b.string(e.getKey());
            b.u32(e.getValue().type().id());
            value(b, e.getValue());
        }
        for (Pending p : tensors) {
            b.string(p.info.name());
            b.u32(p.info.rank());
            for (long d : p.info.dims()) b.u64(d);
            b.u32(p.info.type().id());
            b.u64(p.info.offset());
        }
        return b.toByteArray();
    }

    private static void value(Bytes b, GgufValue v) {
        switch (v.type()) {
            case STRING -> b.string((String) v.value());
            case FLOAT32 -> b.u32(Float.floatToRawIntBits((Float) v.value()));
            case FLOAT64 -> b.u64(Double.doubleToRawLongBits((Double) v.value()));
            case BOOL -> b.write((Boolean) v.value() ? 1 : 0);
            case ARRAY -> {
                b.u32(v.elementType().id());
                b.u64(v.length());
                switch (v.value()) {
                    case String[] a -> { for (String s : a) b.string(s); }
                    case float[] a -> { for (float f : a) b.u32(Float.floatToRawIntBits(f)); }
                    case double[] a -> { for (double d : a) b.u64(Double.doubleToRawLongBits(d)); }
                    case boolean[] a -> { for (boolean x : a) b.write(x ? 1 : 0); }
                    case GgufValue[] a -> { for (GgufValue x : a) { b.u32(x.elementType().id()); b.u64(x.length()); valueBody(b, x); } }
                    case long[] a -> { for (long x : a) b.integer(v.elementType(), x); }
                    default -> throw new IllegalStateException();
                }
            }
            default -> b.integer(v.type(), (Long) v.value());
        }
    }

    /** The elements of an array value (its element type and length already written). */
    private static void valueBody(Bytes b, GgufValue array) {
        Bytes tmp = new Bytes();
        value(tmp, array);
        byte[] all = tmp.toByteArray();
        b.write(all, 12, all.length - 12);
    }

    private static final class Bytes extends ByteArrayOutputStream {
        Bytes() {
            super(1 << 16);
        }

        void u32(int v) {
            for (int i = 0; i < 4; i++) write(v >>> (8 * i));
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) write((int) (v >>> (8 * i)));
        }

        void integer(GgufValueType t, long v) {
            for (int i = 0; i < t.size(); i++) write((int) (v >>> (8 * i)));
        }

        void string(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            u64(utf8.length);
            write(utf8, 0, utf8.length);
        }
    }

    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel inner;
        long count;

        CountingChannel(WritableByteChannel inner) {
            this.inner = inner;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = inner.write(src);
            count += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return inner.isOpen();
        }

        @Override
        public void close() {
            // the writer owns the file
        }
    }
}
