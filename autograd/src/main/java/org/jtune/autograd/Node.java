package org.jtune.autograd;

/**
 * One recorded op in the graph: its name, the variables it read, and the backward rule (a closure
 * holding the tensors the rule needs). {@link #release()} drops both once the rule has run, so the
 * saved tensors are freed as the backward pass moves on.
 */
final class Node {
    final String op;
    final int outputs;
    private Variable[] inputs;
    private Backward.Multi rule;

    Node(String op, int outputs, Variable[] inputs, Backward.Multi rule) {
        this.op = op;
        this.outputs = outputs;
        this.inputs = inputs;
        this.rule = rule;
    }

    /** The inputs, or null once released. */
    Variable[] inputs() {
        return inputs;
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
        inputs = null;
    }

    boolean released() {
        return rule == null;
    }
}
