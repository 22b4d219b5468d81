package org.jtune.autograd;

/**
 * One recorded op in the graph: its name, an edge per input telling where that input's gradient
 * goes, and the backward rule (a closure holding exactly the tensors the rule needs). Edges name a
 * producing node or a leaf, never a non-leaf {@link Variable}, so an intermediate value that no rule
 * saved is freed as soon as the caller drops it. {@link #release()} drops the rule and the edges
 * once the rule has run, so saved tensors are freed as the backward pass moves on.
 */
final class Node {
    /** Where the gradient of one input goes: output {@code output} of {@code node}, or the leaf {@code leaf}. */
    record Edge(Node node, int output, Variable leaf, int[] shape) {
        /** The edge for v, or null when v needs no gradient. */
        static Edge of(Variable v) {
            if (v == null || !v.requiresGrad()) return null;
            return v.node == null ? new Edge(null, 0, v, v.shape()) : new Edge(v.node, v.outputIndex, null, v.shape());
        }
    }

    final String op;
    final int outputs;
    private Edge[] edges;
    private Backward.Multi rule;

    Node(String op, int outputs, Variable[] inputs, Backward.Multi rule) {
        this.op = op;
        this.outputs = outputs;
        this.edges = new Edge[inputs.length];
        for (int i = 0; i < inputs.length; i++) edges[i] = Edge.of(inputs[i]);
        this.rule = rule;
    }

    /** One edge per input (null for inputs without gradient), or null once released. */
    Edge[] edges() {
        return edges;
    }

    Backward.Multi rule() {
        if (rule == null) {
            throw new IllegalStateException("backward through '" + op + "' a second time: its saved tensors were released "
                    + "after the first backward; run the forward again");
        }
        return rule;
    }

    void release() {
        rule = null;
        edges = null;
    }

    boolean released() {
        return rule == null;
    }
}
