package org.jtune.quant.gguf;

import java.util.Arrays;
import org.jtune.quant.GgmlType;

/**
 * A tensor of a GGUF file: its name, its dimensions in ggml order (ne[0] is the contiguous one, the row
 * length: a PyTorch (out, in) weight is stored as ne = [in, out]), its element type, and the byte offset
 * of its data from the start of the data section.
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset) {
    public GgufTensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    /** ne[i] (1 beyond the rank, as ggml pads shapes). */
    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** ne[0]: the elements of one row. */
    public long rowLength() {
        return dim(0);
    }

    /** The number of rows (the product of ne[1..]). */
    public long rowCount() {
        return dims.length == 0 ? 1 : elementCount() / Math.max(1, dims[0]);
    }

    /** Bytes of the data: whole blocks of each row. */
    public long byteSize() {
        return type.rowBytes(rowLength()) * rowCount();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && Arrays.equals(t.dims, dims) && t.type == type && t.offset == offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims) + " @" + offset;
    }
}
