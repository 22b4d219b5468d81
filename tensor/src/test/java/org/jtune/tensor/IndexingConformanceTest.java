package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * embedding (F32 and BF16 weights), index_select, gather, scatter_add, concat, stack and split
 * against index loops. All are exact copies except scatter_add, whose repeated indices add in float.
 */
class IndexingConformanceTest {
    static Tensor randomIndex(Rng rng, int bound, int... shape) {
        int[] a = new int[(int) Tensor.numel(shape)];
        for (int i = 0; i < a.length; i++) a[i] = rng.nextInt(bound);
        Tensor t = Tensor.ofInts(a, shape);
        return shape.length == 2 && rng.nextInt(2) == 0 ? Tensor.ofInts(a, shape[1], shape[0]).t() : t; // a transposed view
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void embeddingOfF32AndBf16Weights(Backend be) {
        Rng rng = new Rng(41);
        for (int trial = 0; trial < 12; trial++) {
            int v = 1 + rng.nextInt(300), d = Layouts.SIZES[rng.nextInt(Layouts.SIZES.length)];
            DType dt = trial % 3 == 0 ? DType.F32 : trial % 3 == 1 ? DType.BF16 : DType.F16;
            Tensor w = Layouts.make(rng, NORMAL, dt, Layouts.Layout.values()[rng.nextInt(5)], v, d);
            int[] idsShape = trial % 2 == 0 ? new int[] {1 + rng.nextInt(40)} : new int[] {1 + rng.nextInt(4), 1 + rng.nextInt(9)};
            Tensor ids = randomIndex(rng, v, idsShape);
            Tensor got = Ops.using(be, () -> Ops.embedding(w, ids));
            Ref rw = Ref.of(w), ri = Ref.of(ids);
            int[] outShape = java.util.Arrays.copyOf(idsShape, idsShape.length + 1);
            outShape[idsShape.length] = d;
            Ref want = Ref.zeros(outShape);
            for (int i = 0; i < ri.numel(); i++) for (int j = 0; j < d; j++) want.v()[i * d + j] = rw.at((int) ri.v()[i], j);
            Expect.equal("embedding of " + describe(w), got, want); // a row copy: exact, BF16/F16 widen exactly
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void indexSelectAndGather(Backend be) {
        Rng rng = new Rng(42);
        for (int trial = 0; trial < 20; trial++) {
            int rank = 1 + rng.nextInt(3);
            int[] shape = Layouts.shape(rng, rank, 3000, false);
            Tensor x = Layouts.any(rng, NORMAL, true, shape);
            int dim = rng.nextInt(rank);
            Ref rx = Ref.of(x);

            int count = rng.nextInt(3) == 0 ? 0 : 1 + rng.nextInt(2 * shape[dim] + 1); // repeats allowed, 0 allowed
            Tensor idx = randomIndex(rng, shape[dim], count);
            Tensor sel = Ops.using(be, () -> Ops.indexSelect(x, dim, idx));
            int[] selShape = shape.clone();
            selShape[dim] = count;
            Ref want = Ref.zeros(selShape), ri = Ref.of(idx);
            for (int f = 0; f < want.numel(); f++) {
                int[] p = want.unravel(f);
                p[dim] = (int) ri.v()[p[dim]];
                want.v()[f] = rx.at(p);
            }
            Expect.equal("index_select along " + dim + " of " + describe(x), sel, want);

            int[] gShape = shape.clone();
            for (int d = 0; d < rank; d++) gShape[d] = d == dim ? 1 + rng.nextInt(2 * shape[d]) : 1 + rng.nextInt(shape[d]);
            Tensor gidx = randomIndex(rng, shape[dim], gShape);
            Tensor g = Ops.using(be, () -> Ops.gather(x, dim, gidx));
            Ref rg = Ref.of(gidx), gw = Ref.zeros(gShape);
            for (int f = 0; f < gw.numel(); f++) {
                int[] p = gw.unravel(f);
                p[dim] = (int) rg.v()[f];
                gw.v()[f] = rx.at(p);
            }
            Expect.equal("gather along " + dim + " of " + describe(x), g, gw);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void scatterAddAccumulatesRepeatedIndices(Backend be) {
        Rng rng = new Rng(43);
        for (int trial = 0; trial < 20; trial++) {
            int rank = 1 + rng.nextInt(3);
            int[] shape = Layouts.shape(rng, rank, 2000, false);
            int dim = rng.nextInt(rank);
            Tensor dst = Layouts.any(rng, NORMAL, true, shape);
            int[] sShape = shape.clone();
            for (int d = 0; d < rank; d++) sShape[d] = d == dim ? 1 + rng.nextInt(3 * shape[d]) : 1 + rng.nextInt(shape[d]);
            Tensor idx = randomIndex(rng, shape[dim], sShape);
            Tensor src = Layouts.any(rng, NORMAL, true, sShape);
            Tensor got = Ops.using(be, () -> Ops.scatterAdd(dst, dim, idx, src));
            Ref want = Ref.of(dst), ri = Ref.of(idx), rs = Ref.of(src);
            double[] abs = new double[want.numel()];
            int[] terms = new int[want.numel()];
            for (int i = 0; i < abs.length; i++) abs[i] = Math.abs(want.v()[i]);
            for (int f = 0; f < rs.numel(); f++) {
                int[] p = rs.unravel(f);
                p[dim] = (int) ri.v()[f];
                int at = want.flat(p);
                want.v()[at] += rs.v()[f];
                abs[at] += Math.abs(rs.v()[f]);
                terms[at]++;
            }
            // Each target is a sum of its terms in some order: ≤ (terms+1)·u·Σ|terms|.
            double[] tol = new double[abs.length];
            for (int i = 0; i < tol.length; i++) tol[i] = (terms[i] + 1) * U * abs[i];
            Expect.close("scatter_add along " + dim + " into " + describe(dst), got, want, tol);
            Ref unchanged = Ref.of(dst);
            assertEquals(unchanged.v()[0], (double) dst.toFloatArray()[0], "scatter_add must not write its input");
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void concatStackSplit(Backend be) {
        Rng rng = new Rng(44);
        for (int trial = 0; trial < 15; trial++) {
            int rank = 1 + rng.nextInt(3);
            int[] shape = Layouts.shape(rng, rank, 1000, false);
            int dim = rng.nextInt(rank);
            List<Tensor> parts = new ArrayList<>();
            int total = 0;
            for (int p = 0; p < 1 + rng.nextInt(4); p++) {
                int[] s = shape.clone();
                s[dim] = rng.nextInt(4) == 0 ? 0 : 1 + rng.nextInt(5);
                total += s[dim];
                parts.add(Layouts.any(rng, NORMAL, true, s));
            }
            Tensor cat = Ops.using(be, () -> Ops.concat(parts, dim));
            int[] catShape = shape.clone();
            catShape[dim] = total;
            Ref want = Ref.zeros(catShape);
            int at = 0;
            for (Tensor part : parts) {
                Ref rp = Ref.of(part);
                for (int f = 0; f < rp.numel(); f++) {
                    int[] p = rp.unravel(f);
                    p[dim] += at;
                    want.v()[want.flat(p)] = rp.v()[f];
                }
                at += part.size(dim);
            }
            Expect.equal("concat along " + dim, cat, want);

            int size = 1 + rng.nextInt(Math.max(1, total));
            List<Tensor> pieces = Ops.split(cat, size, dim);
            assertEquals(total == 0 ? 0 : (total + size - 1) / size, pieces.size(), "split count");
            int from = 0;
            for (Tensor piece : pieces) {
                Ref rp = Ref.of(piece);
                for (int f = 0; f < rp.numel(); f++) {
                    int[] p = rp.unravel(f);
                    p[dim] += from;
                    assertEquals(want.v()[want.flat(p)], rp.v()[f], "split piece at " + from);
                }
                from += piece.size(dim);
            }

            List<Tensor> same = new ArrayList<>();
            for (int p = 0; p < 3; p++) same.add(Layouts.any(rng, NORMAL, true, shape));
            int sdim = rng.nextInt(rank + 1);
            Tensor st = Ops.using(be, () -> Ops.stack(same, sdim));
            for (int p = 0; p < 3; p++) Expect.equal("stack part " + p + " along " + sdim, st.select(sdim, p), Ref.of(same.get(p)));
        }
    }
}
