package org.jtune.tensor.cpu;

import org.jtune.tensor.PagedRows;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * {@link org.jtune.tensor.Backend#pagedAttention} on the CPU for sequences with fewer than
 * {@link Attention#TRANSPOSED_KEYS_MIN_QUERIES} query rows (decode steps, short chunks): each (sequence, query row, query
 * head) row reads its visible keys and values where they lie in the blocks, instead of a gathered copy of the sequence
 * (the copy of a batched decode step of 16 sequences over ~500 positions moved 32 MB per layer of the 1.1B shape), with
 * the per-key dot products, softmax and weighted sum of {@link Attention}'s decode path in the same order: a row's output
 * has the bits of its sequence gathered and passed to {@link Attention}. All rows of all sequences are one range for the
 * pool, one parallel call per layer instead of one per sequence. BF16 or F16 blocks (a half-precision KV cache) are read
 * in place too, each vector widened in registers. {@link #split} hands longer sequences (prefill chunks,
 * which {@link Attention} scores through transposed keys) to the gathering path.
 */
final class PagedAttention {
    private PagedAttention() {}

    /** {sequences of fewer than the transposed-keys threshold of query rows, the others}; each keeps its rows and table. */
    static PagedRows[] split(PagedRows rows) {
        return new PagedRows[] {subset(rows, true), subset(rows, false)};
    }

    /** The sequences of rows with fewer ({@code few}) or no fewer query rows than the transposed-keys threshold. */
    private static PagedRows subset(PagedRows rows, boolean few) {
        int[] keep = java.util.stream.IntStream.range(0, rows.count())
                .filter(s -> (rows.rowCount()[s] < Attention.TRANSPOSED_KEYS_MIN_QUERIES) == few).toArray();
        int[][] tables = new int[keep.length][];
        int[] start = new int[keep.length], count = new int[keep.length], len = new int[keep.length];
        for (int i = 0; i < keep.length; i++) {
            tables[i] = rows.tables()[keep[i]];
            start[i] = rows.rowStart()[keep[i]];
            count[i] = rows.rowCount()[keep[i]];
            len[i] = rows.lengths()[keep[i]];
        }
        return new PagedRows(tables, start, count, len);
    }

    /** The rows of {@code rows}' sequences (each with fewer than the transposed-keys threshold of query rows) into out. */
    static void attention(Tensor q, Tensor keyBlocks, Tensor valueBlocks, PagedRows rows, int window, float scale, Tensor out) {
        int hq = q.size(2), d = q.size(3), bs = keyBlocks.size(1), hkv = keyBlocks.size(2), group = hq / hkv;
        int queries = 0, maxLen = 0;
        long keys = 0;
        for (int s = 0; s < rows.count(); s++) {
            queries += rows.rowCount()[s];
            maxLen = Math.max(maxLen, rows.lengths()[s]);
            keys += (long) rows.rowCount()[s] * rows.lengths()[s];
        }
        if (queries == 0) return;
        int[] seqOf = new int[queries], indexOf = new int[queries]; // query e is row indexOf[e] of sequence seqOf[e]
        for (int s = 0, e = 0; s < rows.count(); s++) {
            for (int i = 0; i < rows.rowCount()[s]; i++, e++) {
                seqOf[e] = s;
                indexOf[e] = i;
            }
        }
        short[] kh = HalfVectors.shorts(keyBlocks), vh = HalfVectors.shorts(valueBlocks); // a BF16 or F16 pool, read where it lies
        boolean bf16 = keyBlocks.dtype() == org.jtune.tensor.DType.BF16;
        Tensor kc = kh != null ? keyBlocks : Attention.unitLastDim(keyBlocks), vc = vh != null ? valueBlocks : Attention.unitLastDim(valueBlocks);
        float[] ka = kc.storage().floatArray(), va = vc.storage().floatArray();
        long kOff = kc.offset(), ks0 = kc.stride(0), ks1 = kc.stride(1), ks2 = kc.stride(2);
        long vOff = vc.offset(), vs0 = vc.stride(0), vs1 = vc.stride(1), vs2 = vc.stride(2);
        Rows qr = Rows.lastDim(q), o = Rows.lastDim(out);
        int longest = maxLen, kRow = (int) ks1, vRow = (int) vs1;
        Parallel.forPieces(queries * hq, Rows.grain(2L * d * Math.max(1, keys / queries)), 4, (r0, r1) -> {
            float[] qbuf = qr.direct() ? null : new float[d];
            float[] acc = new float[d], scores = new float[longest];
            int[] values = new int[longest];
            for (int r = r0; r < r1; r++) {
                int e = r / hq, h = r % hq, s = seqOf[e], kvh = h / group;
                int row = (rows.rowStart()[s] + indexOf[e]) * hq + h; // q and out are (1, n, Hq, D): rows (position, head)
                int qPos = rows.lengths()[s] - rows.rowCount()[s] + indexOf[e];
                int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                int[] table = rows.tables()[s];
                float[] qa = qr.arrayOf(row, qbuf);
                int qBase = qr.baseOf(row, qbuf);
                int n = 0;
                float max = Float.NEGATIVE_INFINITY;
                for (int first = lo / bs * bs; first <= qPos; first += bs) { // block by block, keys in position order
                    long block = table[first / bs];
                    int kAt = (int) (kOff + block * ks0 + kvh * ks2), vAt = (int) (vOff + block * vs0 + kvh * vs2);
                    for (int j = Math.max(first, lo), end = Math.min(first + bs - 1, qPos); j <= end; j++) {
                        float sc = scale * (kh != null ? RowKernels.scoreDot(qa, qBase, kh, kAt + (j - first) * kRow, d, bf16)
                                : RowKernels.scoreDot(qa, qBase, ka, kAt + (j - first) * kRow, d));
                        values[n] = vAt + (j - first) * vRow;
                        scores[n++] = sc;
                        max = Math.max(max, sc);
                    }
                }
                Attention.softmaxValues(scores, values, n, max, va, vh, bf16, 0, 1, d, acc);
                o.store(row, acc);
            }
        });
    }
}
