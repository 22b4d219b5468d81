package org.jtune.models.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import org.jtune.tensor.DType;
import org.jtune.tensor.Half;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * Streams the elements of tensors, in row-major order and little-endian, into a channel through one
 * fixed-size off-heap buffer: any strides (transposed, sliced, broadcast views), and a floating
 * tensor may be converted to another floating dtype on the way (rounding to nearest even). The
 * whole tensor is never copied at once, so writing a model needs only the buffer beyond the weights.
 * Contiguous tensors that keep their dtype are copied in bulk; other rows element by element.
 * Not thread-safe; close it to free the buffer.
 */
final class TensorByteStream implements AutoCloseable {
    private static final int BUFFER_BYTES = 1 << 20;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(BUFFER_BYTES, 8);
    private final ByteBuffer view = buffer.asByteBuffer();
    private final WritableByteChannel out;
    private int used;

    TensorByteStream(WritableByteChannel out) {
        this.out = out;
    }

    /** Writes {@code t}'s elements as {@code target} (equal to t's dtype unless both are floating). */
    void write(Tensor t, DType target) throws IOException {
        DType source = t.dtype();
        if (source != target && !(source.isFloating() && target.isFloating())) {
            throw new IllegalArgumentException("cannot convert " + source + " to " + target + " while writing");
        }
        if (t.numel() == 0) return;
        if (!t.storage().isHost()) t = t.to(org.jtune.tensor.Device.CPU); // device tensors are written through one host copy
        MemorySegment src = t.storage().segment();
        int es = source.byteSize();
        if (source == target && t.isContiguous()) {
            copyBytes(src, t.offset() * es, t.numel() * es);
            return;
        }
        int rank = t.rank();
        if (rank == 0) {
            element(t.storage(), source, target, t.offset());
            return;
        }
        int[] shape = t.shape();
        long[] strides = t.strides();
        int inner = shape[rank - 1];
        long innerStride = strides[rank - 1];
        int[] idx = new int[rank - 1];
        long rowStart = t.offset();
        long rows = t.numel() / inner;
        for (long r = 0; r < rows; r++) {
            if (source == target && (innerStride == 1 || inner == 1)) {
                copyBytes(src, rowStart * es, (long) inner * es);
            } else {
                for (int j = 0; j < inner; j++) element(t.storage(), source, target, rowStart + j * innerStride);
            }
            // advance the row counter over the outer dims (odometer order)
            for (int d = rank - 2; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    rowStart += strides[d];
                    break;
                }
                rowStart -= (long) (shape[d] - 1) * strides[d];
                idx[d] = 0;
            }
        }
    }

    /** Writes whatever is buffered to the channel. */
    void flush() throws IOException {
        view.clear().limit(used);
        while (view.hasRemaining()) out.write(view);
        used = 0;
    }

    private void copyBytes(MemorySegment src, long from, long length) throws IOException {
        while (length > 0) {
            if (used == BUFFER_BYTES) flush();
            int n = (int) Math.min(length, BUFFER_BYTES - used);
            MemorySegment.copy(src, from, buffer, used, n);
            used += n;
            from += n;
            length -= n;
        }
    }

    private void element(Storage src, DType source, DType target, long index) throws IOException {
        int size = target.byteSize();
        if (used + size > BUFFER_BYTES) flush();
        if (source == target) {
            MemorySegment.copy(src.segment(), index * size, buffer, used, size);
        } else {
            float v = src.getFloat(source, index);
            switch (target) {
                case F32 -> buffer.set(LE_FLOAT, used, v);
                case BF16 -> buffer.set(LE_SHORT, used, Half.floatToBf16(v));
                case F16 -> buffer.set(LE_SHORT, used, Half.floatToF16(v));
                default -> throw new IllegalArgumentException("not a floating dtype: " + target);
            }
        }
        used += size;
    }

    @Override
    public void close() {
        arena.close();
    }
}
