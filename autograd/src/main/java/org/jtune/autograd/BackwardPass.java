package org.jtune.autograd;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Reverse-mode sweep over the recorded graph, without recursion (graphs thousands of ops deep are
 * fine). First an explicit-stack walk counts, for every node reachable from the root, how many
 * edges lead into it; then nodes run in Kahn order: a node runs once every consumer has delivered
 * its gradient. After a node's rule has run its saved tensors are released, and the gradient it
 * consumed is dropped, so memory falls as the sweep proceeds. Gradients reaching a leaf are added
 * to {@link Variable#grad()}.
 */
final class BackwardPass {
    private BackwardPass() {}

    /** Pending output gradients of one node; {@code owned[i]} when the engine allocated slot i and may add into it in place. */
    private static final class Pending {
        final Tensor[] grads;
        final boolean[] owned;

        Pending(int outputs) {
            grads = new Tensor[outputs];
            owned = new boolean[outputs];
        }

        /** Adds g into slot; an {@code exclusive} g (held by no one else) becomes owned and is added into in place later. */
        void add(int slot, Tensor g, boolean exclusive) {
            if (grads[slot] == null) {
                grads[slot] = g;
                owned[slot] = exclusive && Variable.ownsWholeStorage(g);
            } else if (!owned[slot]) {
                grads[slot] = Ops.add(grads[slot], g);
                owned[slot] = true;
            } else {
                Ops.addInPlace(grads[slot], g);
            }
        }
    }

    static void run(Variable root, Tensor upstream) {
        if (root.node == null) {
            root.accumulate(upstream, false);
            return;
        }
        Map<Node, int[]> edgesIn = countEdges(root.node);
        Map<Node, Pending> pending = new IdentityHashMap<>();
        Pending first = new Pending(root.node.outputs);
        first.add(root.outputIndex, upstream, false);
        pending.put(root.node, first);
        ArrayDeque<Node> ready = new ArrayDeque<>();
        ready.push(root.node);
        while (!ready.isEmpty()) {
            Node node = ready.pop();
            Pending p = pending.remove(node);
            if (node.released()) node.rule(); // reports a second backward through released state
            Node.Edge[] edges = node.edges();
            Tensor[] inGrads = null;
            boolean any = false;
            for (Tensor g : p.grads) any |= g != null;
            if (any) {
                long start = OpProfile.ENABLED ? OpProfile.start() : 0;
                inGrads = node.rule().apply(p.grads);
                if (OpProfile.ENABLED) OpProfile.backward(node.op, start);
                if (inGrads.length != edges.length) {
                    throw new IllegalStateException("backward of '" + node.op + "' returned " + inGrads.length
                            + " gradients for " + edges.length + " inputs");
                }
            } else {
                node.rule(); // a node reached without gradient still may not run twice
            }
            node.release();
            boolean[] exclusive = exclusive(inGrads, p.grads);
            for (int i = 0; i < edges.length; i++) {
                Node.Edge e = edges[i];
                if (e == null) continue;
                Tensor g = inGrads == null ? null : inGrads[i];
                if (inGrads != null) inGrads[i] = null; // let the sweep free it once consumed
                if (g != null && !Arrays.equals(g.shape(), e.shape())) {
                    throw new IllegalStateException("backward of '" + node.op + "' gave a gradient of shape " + Arrays.toString(g.shape())
                            + " for input " + i + " of shape " + Arrays.toString(e.shape()));
                }
                if (e.leaf() != null) {
                    long start = OpProfile.ENABLED ? OpProfile.start() : 0;
                    if (g != null) e.leaf().accumulate(g, exclusive[i]);
                    if (OpProfile.ENABLED) OpProfile.backward("(accumulate into leaf)", start);
                    continue;
                }
                Pending q = pending.computeIfAbsent(e.node(), n -> new Pending(n.outputs));
                long start = OpProfile.ENABLED ? OpProfile.start() : 0;
                if (g != null) q.add(e.output(), g, exclusive[i]);
                if (OpProfile.ENABLED) OpProfile.backward("(sum of gradients)", start);
                if (--edgesIn.get(e.node())[0] == 0) ready.push(e.node());
            }
        }
    }

    /**
     * Which of a rule's results nobody else holds: its storage is not that of a gradient the rule
     * received (rules may pass those through, as add and views do) nor of another of its results.
     * Rules never return saved values (the {@link Backward} contract), so such a result was made by
     * the rule for this input alone and may be kept or added into in place.
     */
    private static boolean[] exclusive(Tensor[] results, Tensor[] received) {
        boolean[] r = new boolean[results == null ? 0 : results.length];
        for (int i = 0; i < r.length; i++) {
            Tensor g = results[i];
            if (g == null) continue;
            boolean shared = false;
            for (Tensor in : received) shared |= in != null && in.storage() == g.storage();
            for (int j = 0; j < results.length && !shared; j++) shared = j != i && results[j] != null && results[j].storage() == g.storage();
            r[i] = !shared;
        }
        return r;
    }

    /** For each node reachable from root through inputs that require grad: the number of edges into it. */
    private static Map<Node, int[]> countEdges(Node root) {
        Map<Node, int[]> count = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        count.put(root, new int[1]);
        stack.push(root);
        while (!stack.isEmpty()) {
            Node.Edge[] edges = stack.pop().edges();
            if (edges == null) continue; // released: running it will report the second backward
            for (Node.Edge e : edges) {
                if (e == null || e.node() == null) continue;
                int[] c = count.get(e.node());
                if (c == null) {
                    count.put(e.node(), c = new int[1]);
                    stack.push(e.node());
                }
                c[0]++;
            }
        }
        return count;
    }
}
