package org.jtune.train.prep;

import java.util.ArrayList;
import java.util.List;
import org.jtune.tensor.Tensor;

/**
 * Groups tokenized examples into micro-batches. Padded: each batch is padded on the right to its
 * longest example (causal attention never looks right, padding gets no loss). Packed: examples are
 * placed one after another into rows of the sequence length (first fit, in the given order), with
 * positions restarting at 0 and segment ids, so attention is block-diagonal and no example sees
 * another. The order of examples is the caller's (a seeded shuffle).
 */
public final class Batcher {
    private Batcher() {}

    /** Padded batches of {@code batchSize} consecutive examples. */
    public static List<Batch> padded(List<TokenizedExample> examples, int batchSize, int padId) {
        List<Batch> out = new ArrayList<>();
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<TokenizedExample> part = examples.subList(from, Math.min(examples.size(), from + batchSize));
            int t = 0;
            for (TokenizedExample e : part) t = Math.max(t, e.length());
            List<List<TokenizedExample>> rows = new ArrayList<>();
            for (TokenizedExample e : part) rows.add(List.of(e));
            out.add(build(rows, t, padId, false));
        }
        return out;
    }

    /** Packed batches of {@code rowsPerBatch} rows of {@code sequenceLen} tokens. */
    public static List<Batch> packed(List<TokenizedExample> examples, int rowsPerBatch, int sequenceLen, int padId) {
        List<List<TokenizedExample>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (TokenizedExample e : examples) {
            if (e.length() > sequenceLen) throw new IllegalArgumentException("example " + e.source() + " is longer than the sequence length");
            int r = 0;
            while (r < rows.size() && used.get(r) + e.length() > sequenceLen) r++;
            if (r == rows.size()) {
                rows.add(new ArrayList<>());
                used.add(0);
            }
            rows.get(r).add(e);
            used.set(r, used.get(r) + e.length());
        }
        List<Batch> out = new ArrayList<>();
        for (int from = 0; from < rows.size(); from += rowsPerBatch) {
            out.add(build(rows.subList(from, Math.min(rows.size(), from + rowsPerBatch)), sequenceLen, padId, true));
        }
        return out;
    }

    private static Batch build(List<List<TokenizedExample>> rows, int t, int padId, boolean withSegments) {
        int b = rows.size();
        int[] ids = new int[b * t], targets = new int[b * t], pos = new int[b * t], seg = new int[b * t];
        java.util.Arrays.fill(ids, padId);
        java.util.Arrays.fill(targets, Batch.IGNORE);
        java.util.Arrays.fill(seg, -1);
        int trained = 0;
        for (int r = 0; r < b; r++) {
            int at = r * t, s = 0;
            for (TokenizedExample e : rows.get(r)) {
                int n = e.length();
                for (int i = 0; i < n; i++) {
                    ids[at + i] = e.ids()[i];
                    pos[at + i] = i;
                    seg[at + i] = s;
                    if (i + 1 < n && e.trained()[i + 1]) {
                        targets[at + i] = e.ids()[i + 1];
                        trained++;
                    }
                }
                at += n;
                s++;
            }
        }
        return new Batch(Tensor.ofInts(ids, b, t), Tensor.ofInts(targets, b, t), Tensor.ofInts(pos, b, t),
                withSegments ? Tensor.ofInts(seg, b, t) : null, trained);
    }
}
