package org.jtune.models.weights;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.quant.RowGroupFormats;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Quantize on load: replaces the value of every projection weight (role LINEAR; embeddings and norms are
 * kept) by its rows encoded with a {@link BlockCodec}, as a {@link DType#BLOCK} tensor. The full-precision
 * value is dropped (the mapped file it came from stays mapped but is no longer read); the model's Linear
 * layers then multiply through the backend's block kernels. A weight whose rows are not a whole number of
 * the codec's blocks takes the fallback codec when its blocks fit, else keeps its stored dtype (as
 * llama.cpp's quantizer falls back per tensor). Weights already block-quantized are left as they are.
 */
public final class WeightQuantizer {
    /** What happened to each projection: its name and the codec it now holds (null: kept as stored). */
    public record Result(String name, String codec) {}

    private WeightQuantizer() {}

    public static List<Result> quantize(WeightTable table, BlockCodec codec, BlockCodec fallback) {
        List<Result> results = new ArrayList<>();
        for (Weight w : table.all()) {
            if (w.role() != Weight.Role.LINEAR) continue;
            Tensor t = w.value().value();
            if (t.dtype() == DType.BLOCK) {
                results.add(new Result(w.name(), t.blockCodec().name()));
                continue;
            }
            int cols = w.size(1);
            BlockCodec c = cols % codec.blockSize() == 0 ? codec
                    : fallback != null && cols % fallback.blockSize() == 0 ? fallback : null;
            if (c == null) {
                results.add(new Result(w.name(), null));
                continue;
            }
            w.set(Variable.constant(RowGroupFormats.repacked(encode(t, c))));   // interleaved for its kernel, as a loaded one
            results.add(new Result(w.name(), c.name()));
        }
        return results;
    }

    /** The rows of a (rows, cols) floating tensor encoded with {@code codec} (rows in parallel, each thread a run of rows). */
    public static Tensor encode(Tensor t, BlockCodec codec) {
        if (t.rank() != 2 || !t.dtype().isFloating()) throw new IllegalArgumentException("cannot quantize " + t + ": need a floating matrix");
        int rows = t.size(0), cols = t.size(1);
        long rowBytes = codec.rowBytes(cols);
        long total = Math.multiplyExact(rowBytes, (long) rows);
        if (total > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("a " + codec.name() + " matrix of " + total + " bytes is too large");
        // off-heap, as mapped weights are: the decode kernels load from native segments of one exact class
        // (quant's QuantVectors.checkedAddress); rows on the heap would take their slow fallback
        MemorySegment out = org.jtune.tensor.NativeMemory.allocateLarge(total);
        int grain = Math.max(1, (1 << 20) / Math.max(1, cols * 4));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r += 64) {
                int n = Math.min(64, r1 - r);
                float[] block = t.narrow(0, r, n).toFloatArray();
                for (int i = 0; i < n; i++) codec.encodeRow(block, i * cols, cols, out, (r + i) * rowBytes);
            }
        });
        return Tensor.blockQuantized(codec, out, rows, cols);
    }
}
