package org.jtune.tensor;

import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Ops#pagedAttention} (several sequences' query rows over KV caches kept in shuffled, partly shared blocks) against
 * the double reference of {@link AttentionConformanceTest} run on each sequence's positions laid end to end: block sizes
 * 1–7 (partial last blocks), GQA ratios 1, 2, 4, head dims 8 and 64, windows, sequences with no query row, rows no
 * sequence owns (left as they were), and prefill-length chunks (16 rows and more) beside decode rows. On the CPU the
 * result must also have the bits of gathering each sequence and calling {@link Ops#attention}.
 */
class PagedAttentionTest {
    private static final float UNTOUCHED = 7f;

    /** A pool, its sequences and their packed query rows; the output's rows a sequence owns, and the rest. */
    private record Case(Tensor q, Tensor keys, Tensor values, PagedRows rows, int window, float scale) {}

    private static Case randomCase(Rng rng, int trial, int ratio, int d) {
        int hkv = 1 + rng.nextInt(2), hq = hkv * ratio, bs = 1 + rng.nextInt(7), seqs = 1 + rng.nextInt(5);
        int[] len = new int[seqs], count = new int[seqs];
        for (int s = 0; s < seqs; s++) {
            len[s] = 1 + rng.nextInt(40);
            count[s] = Math.min(len[s], rng.nextInt(4));
        }
        if (trial % 4 == 3) { // a prefill chunk beside decode rows: gathered and scored through transposed keys on the CPU
            len[0] = 16 + rng.nextInt(30);
            count[0] = 16 + rng.nextInt(len[0] - 15);
        }
        List<Integer> free = new ArrayList<>();
        int blocks = 3;
        for (int s = 0; s < seqs; s++) blocks += (len[s] + bs - 1) / bs;
        for (int b = 0; b < blocks; b++) free.add(b);
        Collections.shuffle(free, new java.util.Random(trial));
        int[][] tables = new int[seqs][];
        for (int s = 0; s < seqs; s++) {
            tables[s] = new int[(len[s] + bs - 1) / bs];
            for (int i = 0; i < tables[s].length; i++) tables[s][i] = free.removeLast();
        }
        if (seqs > 1 && len[0] > bs && len[1] > bs) tables[1][0] = tables[0][0]; // a shared prefix block
        int queries = 0;
        for (int c : count) queries += c;
        int n = queries + 2; // two rows no sequence owns
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < seqs; s++) order.add(s);
        Collections.shuffle(order, new java.util.Random(trial + 1));
        int[] start = new int[seqs];
        int at = 1; // row 0 and the last row are nobody's
        for (int s : order) {
            start[s] = at;
            at += count[s];
        }
        Tensor keys = Tensor.uniform(rng, -1f, 1f, blocks, bs, hkv, d), values = Tensor.uniform(rng, -1f, 1f, blocks, bs, hkv, d);
        Tensor q = Layouts.any(rng, NORMAL, true, 1, n, hq, d);
        int window = trial % 3 == 0 ? 1 + rng.nextInt(9) : 0;
        return new Case(q, keys, values, new PagedRows(tables, start, count, len), window, trial % 2 == 0 ? 0f : 0.3f);
    }

    /** Sequence s's positions end to end, (1, len, Hkv, D), copied block by block on the host. */
    private static Tensor gathered(Tensor blocks, int[] table, int len) {
        int bs = blocks.size(1);
        Tensor out = Tensor.zeros(1, len, blocks.size(2), blocks.size(3));
        for (int p = 0; p < len; p += bs) {
            int n = Math.min(bs, len - p);
            Ops.copyInto(blocks.select(0, table[p / bs]).narrow(0, 0, n), out.select(0, 0).narrow(0, p, n));
        }
        return out;
    }

    private static Tensor run(Case c) {
        Tensor out = Ops.zeros(DType.F32, c.q().shape());
        Ops.fill(out, UNTOUCHED);
        Ops.pagedAttention(c.q(), c.keys(), c.values(), c.rows(), c.window(), c.scale(), out);
        return out;
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void matchesTheReferenceOverEachSequenceLaidEndToEnd(Backend be) {
        Rng rng = new Rng(61);
        int trial = 0;
        for (int ratio : new int[] {1, 2, 4}) {
            for (int d : new int[] {8, 64}) {
                for (int variant = 0; variant < 4; variant++, trial++) {
                    Case c = randomCase(rng, trial, ratio, d);
                    Tensor got = Ops.using(be, () -> run(c));
                    int hq = c.q().size(2);
                    Ref want = Ref.zeros(c.q().shape());
                    double[] tol = new double[want.numel()];
                    java.util.Arrays.fill(want.v(), UNTOUCHED);
                    for (int s = 0; s < c.rows().count(); s++) {
                        int t = c.rows().rowCount()[s], len = c.rows().lengths()[s], start = c.rows().rowStart()[s];
                        if (t == 0) continue;
                        Ref k = Ref.of(gathered(c.keys(), c.rows().tables()[s], len)), v = Ref.of(gathered(c.values(), c.rows().tables()[s], len));
                        Ref qs = Ref.of(c.q().narrow(1, start, t));
                        double[] tolS = new double[t * hq * d];
                        AttentionMask mask = new AttentionMask(true, c.window(), len - t, null);
                        Ref ws = AttentionConformanceTest.reference(qs, k, v, mask, null, c.scale() > 0 ? c.scale() : 1 / Math.sqrt(d), tolS);
                        System.arraycopy(ws.v(), 0, want.v(), start * hq * d, ws.numel());
                        System.arraycopy(tolS, 0, tol, start * hq * d, tolS.length);
                    }
                    Expect.close("paged attention (trial " + trial + ", ratio " + ratio + ", d " + d + ", window " + c.window() + ", blocks of "
                            + c.keys().size(1) + ", lengths " + java.util.Arrays.toString(c.rows().lengths()) + ", rows "
                            + java.util.Arrays.toString(c.rows().rowCount()) + ") q " + describe(c.q()), got, want, tol);
                }
            }
        }
    }

    /** On the CPU, in-place reads give the bits of the gathering path, whatever the block layout. */
    @Test
    void cpuHasTheBitsOfGatheringEachSequence() {
        Rng rng = new Rng(62);
        for (int trial = 0; trial < 24; trial++) {
            Case c = randomCase(rng, trial, 1 << (trial % 3), trial % 2 == 0 ? 64 : 8);
            float[] got = run(c).toFloatArray();
            Tensor want = Tensor.zeros(c.q().shape());
            Ops.fill(want, UNTOUCHED);
            for (int s = 0; s < c.rows().count(); s++) {
                int t = c.rows().rowCount()[s], len = c.rows().lengths()[s], start = c.rows().rowStart()[s];
                if (t == 0) continue;
                Tensor o = Ops.attention(c.q().narrow(1, start, t), gathered(c.keys(), c.rows().tables()[s], len),
                        gathered(c.values(), c.rows().tables()[s], len), new AttentionMask(true, c.window(), len - t, null), c.scale());
                Ops.copyInto(o, want.narrow(1, start, t));
            }
            assertArrayEquals(want.toFloatArray(), got, "trial " + trial);
        }
    }

    /**
     * A BF16 or F16 pool (a half-precision KV cache) gives the bits of the F32 pool holding the same, widened values, decode
     * rows (read in place, widened in registers) and prefill chunks (gathered into F32) alike.
     */
    @Test
    void halfPrecisionPoolsHaveTheBitsOfTheirValuesWidened() {
        Rng rng = new Rng(63);
        for (DType half : new DType[] {DType.BF16, DType.F16}) {
            for (int trial = 0; trial < 16; trial++) {
                Case c = randomCase(rng, trial, 1 << (trial % 3), trial % 2 == 0 ? 64 : 8);
                Tensor k = c.keys().to(half), v = c.values().to(half);
                Case narrow = new Case(c.q(), k, v, c.rows(), c.window(), c.scale());
                Case wide = new Case(c.q(), k.to(DType.F32), v.to(DType.F32), c.rows(), c.window(), c.scale());
                assertArrayEquals(run(wide).toFloatArray(), run(narrow).toFloatArray(), half + " trial " + trial);
            }
        }
    }

    @Test
    void rejectsTablesRowsAndShapesThatDoNotFit() {
        Tensor keys = Tensor.zeros(4, 2, 1, 8), q = Tensor.zeros(1, 3, 2, 8), out = Tensor.zeros(1, 3, 2, 8);
        var e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(q, keys, keys,
                new PagedRows(new int[][] {{0, 9}}, new int[] {0}, new int[] {1}, new int[] {3}), 0, 0f, out));
        assertTrue(e.getMessage().contains("block 9 of a pool of 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(q, keys, keys,
                new PagedRows(new int[][] {{0}, {1}}, new int[] {0, 0}, new int[] {1, 1}, new int[] {1, 1}), 0, 0f, out));
        assertTrue(e.getMessage().contains("query row 0 belongs to two sequences"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(q, keys, keys,
                new PagedRows(new int[][] {{0}}, new int[] {0}, new int[] {1}, new int[] {3}), 0, 0f, out));
        assertTrue(e.getMessage().contains("3 positions in blocks of 2 but a table of 1 blocks"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(q, keys, keys,
                new PagedRows(new int[][] {{0}}, new int[] {2}, new int[] {2}, new int[] {2}), 0, 0f, out));
        assertTrue(e.getMessage().contains("query rows [2, 4) of 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(Tensor.zeros(1, 3, 3, 8), keys, Tensor.zeros(4, 2, 2, 8),
                new PagedRows(new int[0][], new int[0], new int[0], new int[0]), 0, 0f, Tensor.zeros(1, 3, 3, 8)));
        assertTrue(e.getMessage().contains("paged_attention: need q and out"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.pagedAttention(q, keys, keys.to(DType.BF16),
                new PagedRows(new int[][] {{0}}, new int[] {0}, new int[] {1}, new int[] {1}), 0, 0f, out));
        assertTrue(e.getMessage().contains("both F32, BF16 or F16: F32 and BF16"), e.getMessage());
    }
}
