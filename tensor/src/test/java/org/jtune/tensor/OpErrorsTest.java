package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Wrong calls throw IllegalArgumentException whose message names the op and the shapes (or the bad value). */
class OpErrorsTest {
    static void fails(Backend be, Supplier<?> call, String... mustContain) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.using(be, call::get));
        for (String s : mustContain) assertTrue(e.getMessage().contains(s), "message \"" + e.getMessage() + "\" lacks \"" + s + "\"");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void shapeMismatches(Backend be) {
        fails(be, () -> Ops.add(Tensor.zeros(2, 3), Tensor.zeros(4)), "add", "[2, 3]", "[4]");
        fails(be, () -> Ops.where(Tensor.zeros(2), Tensor.zeros(3), Tensor.zeros(2)), "where", "[2]", "[3]");
        fails(be, () -> Ops.matmul(Tensor.zeros(2, 3), Tensor.zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");
        fails(be, () -> Ops.matmul(Tensor.zeros(2, 2, 3), Tensor.zeros(3, 3, 5)), "matmul", "[2]", "[3]");
        fails(be, () -> Ops.rmsNorm(Tensor.zeros(2, 8), Tensor.zeros(7), 1e-5f), "rms_norm", "[7]", "[2, 8]");
        fails(be, () -> Ops.layerNorm(Tensor.zeros(2, 8), Tensor.zeros(8), Tensor.zeros(9), 1e-5f), "layer_norm", "[9]");
        fails(be, () -> Ops.rope(Tensor.zeros(1, 2, 3, 5), Tensor.zeros(DType.I32, 1, 2), Tensor.zeros(2)), "rope", "[1, 2, 3, 5]");
        fails(be, () -> Ops.attention(Tensor.zeros(1, 4, 3, 8), Tensor.zeros(1, 4, 2, 8), Tensor.zeros(1, 4, 2, 8),
                AttentionMask.causalMask(), 0f), "attention", "[1, 4, 3, 8]", "[1, 4, 2, 8]");
        fails(be, () -> Ops.crossEntropyPerRow(Tensor.zeros(3, 10), Tensor.zeros(DType.I32, 4), -100), "cross_entropy", "[3, 10]", "[4]");
        fails(be, () -> Ops.concat(List.of(Tensor.zeros(2, 3), Tensor.zeros(2, 4)), 0), "concat", "[2, 3]", "[2, 4]");
        fails(be, () -> Ops.gather(Tensor.zeros(2, 3), 1, Tensor.zeros(DType.I32, 3, 1)), "gather", "[2, 3]", "[3, 1]");
        fails(be, () -> Ops.scatterAdd(Tensor.zeros(2, 3), 1, Tensor.zeros(DType.I32, 3, 1), Tensor.zeros(3, 1)), "scatter_add", "[2, 3]", "[3, 1]");
        fails(be, () -> Ops.topK(Tensor.zeros(2, 3), 4), "topk", "[2, 3]");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void dimsOutOfRange(Backend be) {
        fails(be, () -> Ops.softmax(Tensor.zeros(2, 3), 2), "softmax", "dim 2", "[2, 3]");
        fails(be, () -> Ops.logSoftmax(Tensor.zeros(2, 3), -3), "log_softmax", "dim -3", "[2, 3]");
        fails(be, () -> Ops.sum(Tensor.zeros(2, 3), 5, false), "sum", "dim 5", "[2, 3]");
        fails(be, () -> Ops.argmax(Tensor.zeros(2, 3), 2, false), "argmax", "[2, 3]");
        fails(be, () -> Ops.indexSelect(Tensor.zeros(2, 3), 2, Tensor.zeros(DType.I32, 1)), "index_select", "[2, 3]");
        fails(be, () -> Ops.stack(List.of(Tensor.zeros(2)), 3), "stack", "[2]");
        fails(be, () -> Ops.max(Tensor.zeros(2, 0), 1, false), "max", "[2, 0]");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void wrongDtypes(Backend be) {
        fails(be, () -> Ops.exp(Tensor.zeros(DType.I32, 3)), "exp", "I32", "[3]");
        fails(be, () -> Ops.embedding(Tensor.zeros(5, 4), Tensor.zeros(3)), "embedding", "F32", "[3]");
        fails(be, () -> Ops.gather(Tensor.zeros(2, 3), 0, Tensor.zeros(2, 3)), "gather", "F32");
        fails(be, () -> Ops.rope(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2), Tensor.zeros(2)), "rope", "positions");
        fails(be, () -> Ops.softmax(Tensor.zeros(DType.I32, 2, 3), 1), "softmax", "I32");
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void indicesOutOfRangeNameTheirPositionAndValue(Backend be) {
        fails(be, () -> Ops.embedding(Tensor.zeros(5, 4), Tensor.ofInts(new int[] {0, 5}, 2)), "embedding", "id 5", "position 1", "[5, 4]");
        fails(be, () -> Ops.indexSelect(Tensor.zeros(2, 3), 1, Tensor.ofInts(new int[] {-1}, 1)), "index_select", "-1", "[2, 3]");
        fails(be, () -> Ops.gather(Tensor.zeros(2, 3), 1, Tensor.ofInts(new int[] {0, 3}, 1, 2)), "gather", "index 3", "[0, 1]");
        fails(be, () -> Ops.scatterAdd(Tensor.zeros(2, 3), 0, Tensor.ofInts(new int[] {2}, 1, 1), Tensor.zeros(1, 1)), "scatter_add", "index 2");
    }
}
