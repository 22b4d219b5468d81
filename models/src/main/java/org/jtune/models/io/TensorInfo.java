package org.jtune.models.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it: its name, element type, shape, the file that
 * holds it and its byte range [begin, end) relative to the start of that file's data area (just
 * after the header). Instances come from a validated header: end − begin is exactly the byte size
 * of the shape, and the range lies inside the data area.
 */
public record TensorInfo(String name, SafetensorsDType dtype, long[] shape, Path file, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the shape (dims are non-negative; they may exceed the int range). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Bytes the tensor occupies in the file. */
    public long byteLength() {
        return end - begin;
    }

    /** Number of elements (the header validation guarantees it does not overflow). */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && file.equals(t.file) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " in " + file.getFileName() + " [" + begin + ", " + end + ")";
    }
}
