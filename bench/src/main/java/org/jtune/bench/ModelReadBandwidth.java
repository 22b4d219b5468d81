package org.jtune.bench;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.DType;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * How fast this process reads the very bytes a decode step reads: a vector sum ({@link MappedGemvBandwidth#sum}) over the
 * model's own F32/BF16 weight tensors in native memory, plain or in the serving layout (every weight but the embedding; a memory-mapped checkpoint's
 * page-cache pages, through the model's own mapping), split into 4 MiB pieces across the pool like a kernel. Beside
 * `bench decode`'s copy and read bounds, which stream a fresh buffer of their own: on this VM the same decode took 61–68
 * ms per step in some processes and 88–97 in others with the same bounds (bench/RESULTS.md, twelfth session), and this
 * figure says whether the memory the weights sit in is the slow part or the kernels are. Quantized (block) weights are
 * not counted.
 */
final class ModelReadBandwidth {
    private static final long PIECE = 4L << 20, UNIT = 256; // MappedGemvBandwidth.sum reads whole 4-vector units

    private record Piece(MemorySegment segment, long from, long to) {}

    private ModelReadBandwidth() {}

    /** {bytes per second, bytes per pass}; {0, 0} when the model has no F32/BF16 weight in native memory. */
    static double[] measure(CausalLM model) {
        List<Piece> pieces = new ArrayList<>();
        long total = 0;
        for (Weight w : model.weights().all()) {
            if (w.role() == Weight.Role.EMBEDDING) continue;
            Tensor t = w.value().value();
            // F32/BF16, plain or in the serving layout's row groups
            DType values = t.blockCodec() instanceof FloatRowGroups g ? g.element() : t.dtype();
            if (!values.isFloating() || values.blockSize() != 1 || !t.isContiguous() || !t.storage().isHost()) continue;
            MemorySegment s = t.storage().segment();
            if (s == null || !s.isNative()) continue;
            long start = t.offset() * values.byteSize(), end = start + (t.numel() * values.byteSize()) / UNIT * UNIT;
            for (long from = start; from < end; from += PIECE) pieces.add(new Piece(s, from, Math.min(end, from + PIECE)));
            total += end - start;
        }
        if (pieces.isEmpty()) return new double[] {0, 0};
        float[] sink = new float[pieces.size()];
        double[] t = new double[total < (256L << 20) ? 40 : 5]; // a small model's passes are too short to compile the loop in two
        for (int r = 0; r < t.length; r++) {
            long t0 = System.nanoTime();
            Parallel.forRange(pieces.size(), 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) sink[p] = MappedGemvBandwidth.sum(pieces.get(p).segment(), pieces.get(p).from(), pieces.get(p).to());
            });
            t[r] = (System.nanoTime() - t0) / 1e9;
        }
        float check = 0;
        for (float f : sink) check += f;
        if (Float.isNaN(check)) System.err.println("decode: the model's weights sum to NaN");
        return new double[] {total / Timing.median(Arrays.copyOfRange(t, t.length - 3, t.length)), total};
    }
}
