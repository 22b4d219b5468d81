package org.jtune.tensor;

import java.util.Arrays;

/**
 * An n-dimensional array: a dtype, a shape, strides and an offset (both in elements) into a
 * {@link Storage}, which lives on a {@link Device}. Views (reshape, transpose, permute, narrow, select,
 * expand, unsqueeze, squeeze) share the storage and copy nothing; {@link #contiguous()},
 * {@link #to(DType)} and {@link #copy()} copy when they must, on the tensor's own device, through its
 * backend; {@link #to(Device)} moves data between the host and a device. The static creation methods
 * ({@link #zeros}, {@link #of}, {@link #randn}, …) make host tensors ({@link Ops#zeros} allocates on a
 * device); element reads on a device tensor copy to the host first.
 * Tensors are immutable as objects; their data is written by kernels through the storage.
 * Computation lives in {@link Ops} (validation and allocation) and the {@link Backend} (kernels).
 */
public final class Tensor {
    private final Storage storage;
    private final DType dtype;
    private final int[] shape;
    private final long[] strides;
    private final long offset;

    public Tensor(Storage storage, DType dtype, int[] shape, long[] strides, long offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and strides "
                    + Arrays.toString(strides) + " differ in rank");
        }
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
    }

    // ---- creation ------------------------------------------------------------------------------

    /** A new zeroed contiguous tensor. */
    public static Tensor zeros(DType dtype, int... shape) {
        return new Tensor(Storage.allocate(dtype, numel(shape)), dtype, shape, contiguousStrides(shape), 0);
    }

    public static Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(DType.F32, shape);
        if (value != 0f) Arrays.fill(t.storage.floatArray(), value);
        return t;
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor scalar(float value) {
        return full(value, new int[0]);
    }

    /** Wraps {@code data} (no copy) as a contiguous F32 tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Storage.wrap(java.lang.foreign.MemorySegment.ofArray(data)), DType.F32, shape,
                contiguousStrides(shape), 0);
    }

    /** Wraps {@code data} (no copy) as a contiguous I32 tensor of the given shape. */
    public static Tensor ofInts(int[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Storage.wrap(java.lang.foreign.MemorySegment.ofArray(data)), DType.I32, shape,
                contiguousStrides(shape), 0);
    }

    /**
     * A (rows, cols) matrix of block-quantized rows read in place from {@code bytes} (a heap array, an arena, a
     * mapped file region): dtype {@link DType#BLOCK}, element strides (cols, 1), so views by whole rows
     * ({@code narrow(0, …)}) and the transpose ({@code t()}) work; the block-aware ops (see {@link DType#BLOCK})
     * read it through {@code codec}. No full-precision copy is made.
     */
    public static Tensor blockQuantized(BlockCodec codec, java.lang.foreign.MemorySegment bytes, int rows, int cols) {
        if (rows < 0 || cols < 0 || cols % codec.blockSize() != 0) {
            throw new IllegalArgumentException(codec.name() + ": a (" + rows + ", " + cols + ") matrix needs rows of a whole number of "
                    + codec.blockSize() + "-element blocks");
        }
        long need = codec.rowBytes(cols) * rows;
        if (bytes.byteSize() != need) {
            throw new IllegalArgumentException(codec.name() + ": a (" + rows + ", " + cols + ") matrix is " + need + " bytes, got "
                    + bytes.byteSize());
        }
        int[] shape = {rows, cols};
        return new Tensor(Storage.blocks(bytes, codec), DType.BLOCK, shape, contiguousStrides(shape), 0);
    }

    /** The row format of a {@link DType#BLOCK} tensor, or null for plain dtypes. */
    public BlockCodec blockCodec() {
        return storage.codec();
    }

    /** 1-D F32 tensor start, start+step, ... below end. */
    public static Tensor arange(double start, double end, double step) {
        if (step == 0 || Double.isNaN(start + end + step)) throw new IllegalArgumentException("arange: bad range");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (start + i * step);
        return of(a, n);
    }

    public static Tensor arange(int n) {
        return arange(0, n, 1);
    }

    /** Standard-normal samples scaled by {@code std}, reproducible from the generator's state. */
    public static Tensor randn(Rng rng, float std, int... shape) {
        Tensor t = zeros(DType.F32, shape);
        float[] a = t.storage.floatArray();
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextGaussian() * std);
        return t;
    }

    /** Uniform samples in [lo, hi), reproducible from the generator's state. */
    public static Tensor uniform(Rng rng, float lo, float hi, int... shape) {
        Tensor t = zeros(DType.F32, shape);
        float[] a = t.storage.floatArray();
        for (int i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * rng.nextFloat();
        return t;
    }

    // ---- metadata ------------------------------------------------------------------------------

    public Storage storage() {
        return storage;
    }

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code dim}; negative dims count from the end. */
    public int size(int dim) {
        return shape[dim(dim)];
    }

    public long[] strides() {
        return strides.clone();
    }

    public long stride(int dim) {
        return strides[dim(dim)];
    }

    public long offset() {
        return offset;
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return numel(shape);
    }

    /** True when elements are laid out row-major without gaps (size-1 dims may have any stride; an empty tensor always is). */
    public boolean isContiguous() {
        if (numel() == 0) return true; // nothing to lay out
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /** Normalises a possibly negative dim; throws naming the shape when out of range. */
    public int dim(int dim) {
        int r = shape.length;
        if (dim < -r || dim >= r) {
            throw new IllegalArgumentException("dim " + dim + " out of range for shape " + Arrays.toString(shape));
        }
        return dim < 0 ? dim + r : dim;
    }

    // ---- views ---------------------------------------------------------------------------------

    /** The same data in another shape (one dim may be -1); a view when the strides allow, else a copy. */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape(newShape);
        long[] st = viewStrides(s);
        return st != null ? new Tensor(storage, dtype, s, st, offset) : contiguous().reshape(s);
    }

    /** Like {@link #reshape} but never copies: throws when the strides do not allow a view. */
    public Tensor view(int... newShape) {
        int[] s = inferShape(newShape);
        long[] st = viewStrides(s);
        if (st == null) {
            throw new IllegalArgumentException("view: shape " + Arrays.toString(shape) + " with strides "
                    + Arrays.toString(strides) + " cannot be viewed as " + Arrays.toString(s) + "; use reshape");
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    public Tensor transpose(int d0, int d1) {
        d0 = dim(d0);
        d1 = dim(d1);
        int[] s = shape.clone();
        long[] st = strides.clone();
        s[d0] = shape[d1];
        s[d1] = shape[d0];
        st[d0] = strides[d1];
        st[d1] = strides[d0];
        return new Tensor(storage, dtype, s, st, offset);
    }

    /** Transpose of the last two dims. */
    public Tensor t() {
        return transpose(-2, -1);
    }

    public Tensor permute(int... order) {
        if (order.length != shape.length) {
            throw new IllegalArgumentException("permute: order " + Arrays.toString(order) + " for shape " + Arrays.toString(shape));
        }
        int[] s = new int[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int d = dim(order[i]);
            if (seen[d]) throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Arrays.toString(order));
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    /** Elements start ≤ i < start+length along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        dim = dim(dim);
        if (start < 0 || length < 0 || start + length > shape[dim]) {
            throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length) + ") outside dim " + dim
                    + " of shape " + Arrays.toString(shape));
        }
        int[] s = shape.clone();
        s[dim] = length;
        return new Tensor(storage, dtype, s, strides, offset + (length == 0 ? 0 : start * strides[dim]));
    }

    /** Python-style slice start:end:step along {@code dim} (step > 0). */
    public Tensor slice(int dim, int start, int end, int step) {
        dim = dim(dim);
        if (step <= 0) throw new IllegalArgumentException("slice: step must be positive, got " + step);
        int n = shape[dim];
        start = Math.clamp(start < 0 ? start + n : start, 0, n);
        end = Math.clamp(end < 0 ? end + n : end, 0, n);
        int len = Math.max(0, (end - start + step - 1) / step);
        int[] s = shape.clone();
        long[] st = strides.clone();
        s[dim] = len;
        st[dim] = strides[dim] * step;
        return new Tensor(storage, dtype, s, st, offset + (len == 0 ? 0 : start * strides[dim]));
    }

    /** Index {@code index} of {@code dim}; the dim is removed. */
    public Tensor select(int dim, int index) {
        dim = dim(dim);
        if (index < 0) index += shape[dim];
        if (index < 0 || index >= shape[dim]) {
            throw new IllegalArgumentException("select: index " + index + " outside dim " + dim + " of shape " + Arrays.toString(shape));
        }
        return new Tensor(storage, dtype, remove(shape, dim), remove(strides, dim), offset + index * strides[dim]);
    }

    public Tensor unsqueeze(int dim) {
        int r = shape.length + 1;
        if (dim < -r || dim >= r) throw new IllegalArgumentException("unsqueeze: dim " + dim + " for shape " + Arrays.toString(shape));
        if (dim < 0) dim += r;
        int[] s = new int[r];
        long[] st = new long[r];
        for (int i = 0, j = 0; i < r; i++) {
            if (i == dim) {
                s[i] = 1;
                st[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    public Tensor squeeze(int dim) {
        dim = dim(dim);
        if (shape[dim] != 1) throw new IllegalArgumentException("squeeze: dim " + dim + " of shape " + Arrays.toString(shape) + " is not 1");
        return new Tensor(storage, dtype, remove(shape, dim), remove(strides, dim), offset);
    }

    /**
     * Broadcast to {@code target} without copying: size-1 dims get stride 0, new leading dims are
     * added, -1 keeps a dim. Numpy broadcasting rules.
     */
    public Tensor expand(int... target) {
        if (target.length < shape.length) {
            throw new IllegalArgumentException("expand: cannot expand " + Arrays.toString(shape) + " to " + Arrays.toString(target));
        }
        int lead = target.length - shape.length;
        int[] s = new int[target.length];
        long[] st = new long[target.length];
        for (int i = 0; i < target.length; i++) {
            if (i < lead) {
                if (target[i] < 0) throw new IllegalArgumentException("expand: -1 not allowed for new dim " + i);
                s[i] = target[i];
                st[i] = 0;
                continue;
            }
            int have = shape[i - lead];
            int want = target[i] == -1 ? have : target[i];
            if (have == want) {
                s[i] = have;
                st[i] = strides[i - lead];
            } else if (have == 1) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("expand: cannot expand " + Arrays.toString(shape) + " to " + Arrays.toString(target));
            }
        }
        return new Tensor(storage, dtype, s, st, offset);
    }

    /** This tensor if already contiguous, else a contiguous copy on the same device. */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        return copy();
    }

    /**
     * The data as a contiguous tensor of {@code target} on the same device (rounding to nearest even):
     * this tensor when it already is one (and, for F32 on the host, lives in a heap array, which the CPU
     * kernels read directly), else a copy.
     */
    public Tensor to(DType target) {
        if (target == dtype && isContiguous() && (target != DType.F32 || !storage.isHost() || storage.floatArray() != null)) return this;
        Backend be = Placement.owner(this);
        Tensor out = be.allocate(target, shape);
        be.copy(this, out);
        return out;
    }

    /** A fresh contiguous copy of the data, on the same device. */
    public Tensor copy() {
        Backend be = Placement.owner(this);
        Tensor out = be.allocate(dtype, shape);
        be.copy(this, out);
        return out;
    }

    /** The device this tensor's memory is on. */
    public Device device() {
        return storage.device();
    }

    /** The values on {@code target}: this tensor when it is already there, else a contiguous copy (host ↔ device). */
    public Tensor to(Device target) {
        if (storage.device().equals(target)) return this;
        Tensor out = target.backend().allocate(dtype, shape);
        Placement.copy(this, out);
        return out;
    }

    /** This tensor when its memory is on the host, else a contiguous host copy (what element reads go through). */
    private Tensor onHost() {
        return storage.isHost() ? this : to(Device.CPU);
    }

    /** The one-element view of the element at idx (0-d), for reading or writing a single element on any device. */
    private Tensor element(int... idx) {
        return new Tensor(storage, dtype, new int[0], new long[0], index(idx));
    }

    // ---- element access (slow; for tests, setup and small data) --------------------------------

    /** Storage index of the element at {@code idx}. */
    public long index(int... idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(idx) + " for shape " + Arrays.toString(shape));
        }
        long p = offset;
        for (int d = 0; d < idx.length; d++) {
            if (idx[d] < 0 || idx[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " outside shape " + Arrays.toString(shape));
            }
            p += idx[d] * strides[d];
        }
        return p;
    }

    public float get(int... idx) {
        if (!storage.isHost()) return element(idx).onHost().item();
        return storage.getFloat(dtype, index(idx));
    }

    public void set(float value, int... idx) {
        if (!storage.isHost()) {
            Placement.owner(this).fill(element(idx), value);
            return;
        }
        storage.setFloat(dtype, index(idx), value);
    }

    public int getInt(int... idx) {
        if (!storage.isHost()) return element(idx).onHost().getInt();
        return storage.getInt(dtype, index(idx));
    }

    /** The single value of a one-element tensor (copied from its device when it is not on the host). */
    public float item() {
        if (numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Arrays.toString(shape) + " has " + numel() + " elements");
        if (!storage.isHost()) return onHost().item();
        return storage.getFloat(dtype, offset);
    }

    /** All elements in row-major order, converted to float (copied from the device first when not on the host). */
    public float[] toFloatArray() {
        Tensor c = onHost().to(DType.F32);
        float[] a = c.storage.floatArray();
        if (a != null && c.offset == 0 && a.length == c.numel()) return c == this ? a.clone() : a;
        float[] r = new float[(int) c.numel()];
        for (int i = 0; i < r.length; i++) r[i] = c.storage.getFloat(DType.F32, c.offset + i);
        return r;
    }

    /** All elements in row-major order as ints. */
    public int[] toIntArray() {
        Tensor c = onHost().contiguous();
        int[] r = new int[(int) c.numel()];
        for (int i = 0; i < r.length; i++) r[i] = c.storage.getInt(dtype, c.offset + i);
        return r;
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + Arrays.toString(shape) + (isContiguous() ? "" : ", strides " + Arrays.toString(strides))
                + (storage.isHost() ? "" : ", " + storage.device()) + ")";
    }

    // ---- shape arithmetic ----------------------------------------------------------------------

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public static long[] contiguousStrides(int[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = s;
            s *= Math.max(shape[d], 1);
        }
        return st;
    }

    private static void checkLength(int length, int[] shape) {
        if (numel(shape) != length) {
            throw new IllegalArgumentException("data of length " + length + " does not fill shape " + Arrays.toString(shape));
        }
    }

    private int[] inferShape(int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: more than one -1 in " + Arrays.toString(newShape));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: negative size in " + Arrays.toString(newShape));
            } else {
                known *= s[i];
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
            }
            s[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(shape) + " (" + n + " elements) to "
                    + Arrays.toString(newShape));
        }
        return s;
    }

    /**
     * Strides that view this tensor's data in shape {@code s}, or null when impossible. Groups of old
     * dims that are contiguous among themselves can be split and merged freely (the rule torch uses).
     */
    private long[] viewStrides(int[] s) {
        long[] out = new long[s.length];
        if (numel() == 0) return contiguousStrides(s);
        int oi = 0, ni = 0;
        int on = shape.length, nn = s.length;
        while (ni < nn || oi < on) {
            // skip size-1 dims on both sides
            if (ni < nn && s[ni] == 1) {
                out[ni] = ni + 1 < nn ? 0 : 1;
                ni++;
                continue;
            }
            if (oi < on && shape[oi] == 1) {
                oi++;
                continue;
            }
            if (ni >= nn || oi >= on) return null;
            // collect a chunk of old dims that is contiguous in itself
            long oldSize = shape[oi];
            int chunkEnd = oi;
            long newSize = s[ni];
            int nStart = ni;
            while (oldSize != newSize) {
                if (oldSize < newSize) {
                    int next = chunkEnd + 1;
                    while (next < on && shape[next] == 1) next++;
                    if (next >= on || strides[chunkEnd] != strides[next] * shape[next]) return null;
                    chunkEnd = next;
                    oldSize *= shape[next];
                } else {
                    ni++;
                    if (ni >= nn) return null;
                    newSize *= s[ni];
                }
            }
            // assign strides to new dims nStart..ni from the innermost stride of the chunk
            long st = strides[chunkEnd];
            for (int k = ni; k >= nStart; k--) {
                out[k] = st;
                st *= s[k];
            }
            oi = chunkEnd + 1;
            ni++;
        }
        for (int k = 0; k < nn; k++) if (s[k] == 1 && out[k] == 0) out[k] = 1;
        return out;
    }

    private static int[] remove(int[] a, int i) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    private static long[] remove(long[] a, int i) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }
}
