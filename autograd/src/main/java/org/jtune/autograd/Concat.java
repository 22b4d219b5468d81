package org.jtune.autograd;

import java.util.List;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Concatenation and its inverse, splitting. concat: dx_k = the slice of g that part k filled
 * (a view). split: one node with several outputs, whose backward writes each output's gradient
 * into its range of one zero tensor (an output without gradient leaves zeros).
 */
public final class Concat {
    private Concat() {}

    public static Variable apply(List<Variable> parts, int dim) {
        List<Tensor> values = parts.stream().map(Variable::value).toList();
        Tensor y = Ops.concat(values, dim);
        int d = y.dim(dim);
        int[] sizes = values.stream().mapToInt(t -> t.size(d)).toArray();
        boolean[] wants = new boolean[sizes.length];
        for (int k = 0; k < sizes.length; k++) wants[k] = parts.get(k).requiresGrad();
        return Graph.record("concat", y, g -> {
            Tensor[] r = new Tensor[sizes.length];
            for (int k = 0, at = 0; k < sizes.length; at += sizes[k], k++) {
                if (wants[k]) r[k] = g.narrow(d, at, sizes[k]);
            }
            return r;
        }, parts.toArray(Variable[]::new));
    }

    /** Consecutive pieces of {@code size} along dim (the last may be shorter), as views. */
    public static List<Variable> split(Variable x, int size, int dim) {
        List<Tensor> pieces = Ops.split(x.value(), size, dim);
        int d = x.value().dim(dim);
        int[] xs = x.shape();
        Variable[] outs = Graph.record("split", pieces.toArray(Tensor[]::new), grads -> {
            Tensor first = java.util.Arrays.stream(grads).filter(java.util.Objects::nonNull).findFirst().orElseThrow();
            Tensor dx = Ops.zerosOn(first, xs);
            for (int k = 0; k < grads.length; k++) {
                if (grads[k] != null) Ops.copyInto(grads[k], dx.narrow(d, k * size, grads[k].size(d)));
            }
            return new Tensor[] {dx};
        }, x);
        return List.of(outs);
    }
}
