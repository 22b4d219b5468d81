package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernels that write a parameter's gradient or the parameter itself: the embedding backward
 * (a scatter-add of gradient rows, repeated ids, skipped negative ids, added into an existing
 * gradient) and the fused AdamW and SGD updates. The updates are checked twice: bit for bit against
 * the steps' scalar definitions ({@link AdamWStep#apply}, {@link SgdStep#apply}, the contract every
 * backend meets so that resumed and re-run trainings agree), and against the torch formulas in
 * double with a derived tolerance.
 */
class OptimizerEmbeddingConformanceTest {
    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void embeddingBackwardAddsRowsInto(Backend be) {
        Rng rng = new Rng(121);
        for (int trial = 0; trial < 16; trial++) {
            int v = 1 + rng.nextInt(40), d = Layouts.SIZES[rng.nextInt(Layouts.SIZES.length)], n = rng.nextInt(30);
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = rng.nextInt(5) == 0 ? -1 : rng.nextInt(Math.min(v, 6)); // repeats, some skipped
            int[] lead = trial % 2 == 0 ? new int[] {n} : new int[] {1, n};
            Tensor idT = Tensor.ofInts(ids, lead);
            int[] gShape = java.util.Arrays.copyOf(lead, lead.length + 1);
            gShape[lead.length] = d;
            Tensor g = Layouts.any(rng, NORMAL, true, gShape);
            Tensor init = Layouts.any(rng, NORMAL, false, v, d);
            Tensor dW = Ops.using(be, () -> Ops.zeros(DType.F32, v, d));
            Ops.copyInto(init, dW);
            Ops.using(be, () -> {
                BackwardOps.embeddingInto(g, idT, dW);
                return null;
            });
            Tensor fresh = Ops.using(be, () -> BackwardOps.embedding(g, idT, v));
            Ref rg = Ref.of(g), ri = Ref.of(init), want = Ref.zeros(v, d), wantFresh = Ref.zeros(v, d);
            double[] abs = new double[v * d];
            int[] count = new int[v];
            for (int i = 0; i < n; i++) {
                if (ids[i] < 0) continue;
                count[ids[i]]++;
                for (int c = 0; c < d; c++) {
                    double x = rg.v()[i * d + c];
                    wantFresh.v()[ids[i] * d + c] += x;
                    abs[ids[i] * d + c] += Math.abs(x);
                }
            }
            double[] tol = new double[v * d], tolFresh = new double[v * d];
            for (int f = 0; f < tol.length; f++) {
                want.v()[f] = ri.v()[f] + wantFresh.v()[f];
                tolFresh[f] = (count[f / d] + 1) * U * abs[f]; // one float add per repeated id
                tol[f] = (count[f / d] + 1) * U * (abs[f] + Math.abs(ri.v()[f]));
            }
            Expect.close("embedding backward into a gradient, g " + describe(g), dW, want, tol);
            Expect.close("embedding backward, g " + describe(g), fresh, wantFresh, tolFresh);
        }
        Tensor dW = Ops.using(be, () -> Ops.zeros(DType.F32, 4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.using(be, () -> {
            BackwardOps.embeddingInto(Tensor.zeros(2, 3), Tensor.ofInts(new int[] {1, 4}, 2), dW);
            return null;
        }));
        assertTrue(e.getMessage().contains("id 4") && e.getMessage().contains("position 1"), e.getMessage());
    }

    /** A contiguous F32 tensor on be's device holding t's values. */
    private static Tensor onBackend(Backend be, Tensor t) {
        Tensor out = Ops.using(be, () -> Ops.zeros(DType.F32, t.shape()));
        Ops.copyInto(t, out);
        return out;
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void adamwUpdate(Backend be) {
        Rng rng = new Rng(122);
        for (int trial = 0; trial < 12; trial++) {
            int[] shape = trial == 0 ? new int[] {70_001} : Layouts.shape(rng, 1 + rng.nextInt(3), 5000, true);
            Tensor p0 = Layouts.any(rng, NORMAL, false, shape), g = Layouts.any(rng, NORMAL, true, shape);
            Tensor m0 = Layouts.any(rng, r -> 0.1f * NORMAL.next(r), false, shape), v0 = Layouts.any(rng, Layouts.uniform(0, 0.05), false, shape);
            AdamWStep step = AdamWStep.of(1e-2 / (1 + trial), trial % 2 == 0 ? 0.1 : 0, 0.9, trial % 3 == 0 ? 0.95 : 0.999, 1e-8, 1 + trial);
            Tensor p = onBackend(be, p0), m = onBackend(be, m0), v = onBackend(be, v0);
            Ops.using(be, () -> {
                OptimizerOps.adamw(p, g, m, v, step);
                return null;
            });
            float[] pa = p0.toFloatArray(), ga = g.toFloatArray(), ma = m0.toFloatArray(), va = v0.toFloatArray();
            float[] gotP = p.toFloatArray(), gotM = m.toFloatArray(), gotV = v.toFloatArray();
            float[] mv = new float[2];
            for (int i = 0; i < pa.length; i++) {
                mv[0] = ma[i];
                mv[1] = va[i];
                float want = step.apply(pa[i], ga[i], mv);
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(gotP[i]), "adamw p[" + i + "] of " + describe(g));
                assertEquals(Float.floatToIntBits(mv[0]), Float.floatToIntBits(gotM[i]), "adamw m[" + i + "]");
                assertEquals(Float.floatToIntBits(mv[1]), Float.floatToIntBits(gotV[i]), "adamw v[" + i + "]");
                // torch's formulas in double on the same inputs. m = m + (g − m)(1 − β1) errs by u on each of its three
                // terms (and may cancel), which the step term carries as lr/bc1/denom times that; v's terms are positive
                // (3u relative), so denom = √v/√bc2 + ε is within 5u; the quotient, the product by the step size, the
                // decay product and the final difference add one u each on their magnitudes.
                double mD = ma[i] + (ga[i] - (double) ma[i]) * step.beta1Complement();
                double vD = va[i] * (double) step.beta2() + (double) ga[i] * ga[i] * step.beta2Complement();
                double denom = Math.sqrt(vD) / step.bias2Sqrt() + step.eps();
                double upd = mD / denom * step.stepSize();
                double pD = pa[i] * (double) step.decay() - upd;
                double mErr = U * (2 * Math.abs(ga[i] - (double) ma[i]) * step.beta1Complement() + Math.abs(ma[i]) + Math.abs(mD));
                double tol = 2 * U * Math.abs(pa[i] * step.decay()) + step.stepSize() / denom * mErr + 8 * U * Math.abs(upd)
                        + U * Math.abs(pD) + 1e-30;
                assertEquals(pD, gotP[i], tol, "adamw p[" + i + "] against the formula");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void sgdUpdate(Backend be) {
        Rng rng = new Rng(123);
        for (int trial = 0; trial < 12; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 5000, true);
            Tensor p0 = Layouts.any(rng, NORMAL, false, shape), g = Layouts.any(rng, NORMAL, true, shape);
            Tensor b0 = Layouts.any(rng, NORMAL, false, shape);
            boolean momentum = trial % 3 != 0;
            SgdStep step = new SgdStep(0.05f, trial % 2 == 0 ? 0.01f : 0f, momentum ? 0.9f : 0f, trial % 4 == 1 ? 0.8f : 1f,
                    momentum && trial % 4 == 2, trial % 5 == 0);
            Tensor p = onBackend(be, p0), buf = momentum ? onBackend(be, b0) : null;
            Ops.using(be, () -> {
                OptimizerOps.sgd(p, g, buf, step);
                return null;
            });
            float[] pa = p0.toFloatArray(), ga = g.toFloatArray(), ba = b0.toFloatArray(), gotP = p.toFloatArray();
            float[] gotB = momentum ? buf.toFloatArray() : null;
            float[] one = new float[1];
            for (int i = 0; i < pa.length; i++) {
                one[0] = ba[i];
                float want = step.apply(pa[i], ga[i], momentum ? one : null);
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(gotP[i]), "sgd p[" + i + "] of " + describe(g) + " " + step);
                if (momentum) assertEquals(Float.floatToIntBits(one[0]), Float.floatToIntBits(gotB[i]), "sgd buf[" + i + "]");
                // torch.optim.SGD in double: at most 5 roundings, on the magnitudes of d, b and lr·d.
                double d = ga[i] + (double) pa[i] * step.weightDecay(), mag = Math.abs(ga[i]) + Math.abs(pa[i] * step.weightDecay());
                if (momentum) {
                    double b = step.first() ? d : ba[i] * (double) step.momentum() + d * step.dampeningComplement();
                    mag += Math.abs(ba[i] * step.momentum()) + Math.abs(d);
                    d = step.nesterov() ? d + step.momentum() * b : b;
                }
                double pD = pa[i] - step.lr() * d;
                assertEquals(pD, gotP[i], 6 * U * (Math.abs(pa[i]) + step.lr() * mag) + 1e-30, "sgd p[" + i + "] against the formula");
            }
        }
    }
}
