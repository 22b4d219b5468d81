package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Tensor;

/**
 * The gradient of numpy broadcasting: an input of shape s broadcast to the output's shape receives
 * the output gradient summed over the dims it was broadcast along (the added leading dims and its
 * size-1 dims). Summation is in a fixed order (row-major over the gradient), so results are
 * deterministic; accumulation is in F32.
 */
final class BroadcastGrad {
    private BroadcastGrad() {}

    /** g reduced to {@code shape}; g itself when the shapes already agree. */
    static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        Tensor out = Tensor.zeros(shape);
        if (g.numel() == 0) return out;
        Tensor src = Pointwise.dense(g);
        long[] dst = out.expand(gs).strides(); // stride 0 along the summed dims
        float[] in = Pointwise.array(src), o = Pointwise.array(out);
        int r = gs.length;
        int inner = gs[r - 1];
        long innerStride = dst[r - 1];
        int[] idx = new int[r];
        long outer = src.numel() / inner;
        int at = (int) src.offset();
        var S = Pointwise.S;
        for (long run = 0; run < outer; run++, at += inner) {
            long base = 0;
            for (int d = 0; d < r - 1; d++) base += idx[d] * dst[d];
            int ob = (int) base;
            if (innerStride == 0) {
                int i = 0;
                FloatVector acc = FloatVector.zero(S);
                for (int bound = S.loopBound(inner); i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, in, at + i));
                float s = VectorMath.sum(acc);
                for (; i < inner; i++) s += in[at + i];
                o[ob] += s;
            } else {
                int i = 0;
                for (int bound = S.loopBound(inner); i < bound; i += S.length()) {
                    FloatVector.fromArray(S, o, ob + i).add(FloatVector.fromArray(S, in, at + i)).intoArray(o, ob + i);
                }
                for (; i < inner; i++) o[ob + i] += in[at + i];
            }
            for (int d = r - 2; d >= 0; d--) {
                if (++idx[d] < gs[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }
}
