package org.jtune.train.optim;

import java.util.Arrays;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * A trainable tensor as optimizers see it: its Hugging Face name, its value and its gradient. Both
 * tensors are contiguous heap F32 of the same shape (the fused update kernels read and write the
 * backing arrays directly); the gradient is read, the value is updated in place.
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    public Parameter {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("parameter name must not be empty");
        requireHeapF32(name, "value", value);
        requireHeapF32(name, "grad", grad);
        if (!Arrays.equals(value.shape(), grad.shape())) {
            throw new IllegalArgumentException("parameter " + name + ": value shape " + Arrays.toString(value.shape())
                    + " and grad shape " + Arrays.toString(grad.shape()) + " differ");
        }
    }

    /** A parameter with a fresh zeroed gradient of the value's shape. */
    public static Parameter withZeroGrad(String name, Tensor value) {
        return new Parameter(name, value, Tensor.zeros(value.shape()));
    }

    public int numel() {
        return (int) value.numel();
    }

    public int rank() {
        return value.rank();
    }

    /** The value's backing array; element i of the tensor is {@code valueArray()[valueOffset() + i]}. */
    float[] valueArray() {
        return value.storage().floatArray();
    }

    int valueOffset() {
        return (int) value.offset();
    }

    float[] gradArray() {
        return grad.storage().floatArray();
    }

    int gradOffset() {
        return (int) grad.offset();
    }

    private static void requireHeapF32(String name, String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException("parameter " + name + ": " + what + " is null");
        if (t.dtype() != DType.F32 || t.storage().floatArray() == null || !t.isContiguous()) {
            throw new IllegalArgumentException("parameter " + name + ": " + what + " must be a contiguous heap F32 tensor, got " + t
                    + " (copy memory-mapped or 16-bit weights to F32 before training them)");
        }
    }
}
