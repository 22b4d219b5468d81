package org.jtune.autograd;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * A loss over the rows of the final hidden states, computed a chunk of rows at a time, so that the logits of a whole
 * micro-batch (rows × vocab: 131 MB for 4 × 256 tokens of a 32000 vocabulary, 262 MB for 4 × 512, 1 GB for 2048 tokens
 * of a 128k one) never exist at once — the fused linear cross-entropy of Liger and Unsloth, written over our own ops.
 *
 * <p>Forward, with gradients wanted: each chunk's rows become a leaf, the chunk's loss (head, cross-entropy) is
 * recorded on its own small graph and back-propagated at once, so the head's gradients accumulate into its parameters
 * as usual and the chunk's logits (their own gradient, in place) die with the chunk; the rows' gradients are kept (rows ×
 * hidden). The returned loss is the sum of the chunks' losses, recorded with one rule that hands the kept gradients to
 * the hidden states. Because the head's gradients are taken in the forward pass with an upstream gradient of 1, the
 * backward must start at this loss (as a training step's does); any other upstream gradient is refused, not mis-scaled.
 * Under {@link NoGrad} only the chunks' losses are computed.
 *
 * <p>Same loss and gradients as the whole-batch graph up to F32 rounding: the head's weight gradient is summed chunk
 * by chunk (Σ_c G_cᵀ·H_c instead of one product), and the loss in chunk order. Results do not depend on the thread
 * count.
 */
public final class ChunkedLoss {
    private ChunkedLoss() {}

    /** The loss of rows [from, from + length) of the hidden states, given as a leaf of those rows. */
    @FunctionalInterface
    public interface Chunk {
        Variable loss(Variable rows, int from, int length);
    }

    /** Logit values per chunk: 4 Mi floats, 16 MiB of F32 (128 rows of a 32000 vocabulary), unless that is under {@link #MIN_ROWS}. */
    static final long CHUNK_LOGITS = 4L << 20;

    /**
     * Fewest rows per chunk. Each chunk's products pack the head's weight again (vocab × hidden: 37 MB for stories15M's
     * head), so small chunks cost time where the head is a large part of the step: 128-row chunks made a stories15M
     * training step 19–34 % slower (its head is a third of the step's work), 512-row chunks cost a few per cent, while a
     * 1.1B model's head is ~5 % of its step (2026-12-05, bench/RESULTS.md).
     */
    static final int MIN_ROWS = 512;

    /** Rows per chunk for a vocabulary of {@code vocab}: about {@link #CHUNK_LOGITS} logits, never fewer than {@link #MIN_ROWS}. */
    public static int rowsPerChunk(int vocab) {
        return (int) Math.max(MIN_ROWS, CHUNK_LOGITS / Math.max(1, vocab));
    }

    /** The summed losses of {@code hidden}'s rows (rows, hidden) in chunks of {@code chunkRows}; one chunk runs as a plain graph. */
    public static Variable apply(Variable hidden, int chunkRows, Chunk chunk) {
        if (hidden.rank() != 2) throw new IllegalArgumentException("chunked loss: hidden states must be (rows, hidden), got " + hidden);
        if (chunkRows < 1) throw new IllegalArgumentException("chunked loss: chunk rows must be positive, got " + chunkRows);
        int n = hidden.size(0);
        if (chunkRows >= n) return chunk.loss(hidden, 0, n);
        Tensor h = hidden.value();
        Tensor grad = Graph.recording(hidden) ? Ops.zerosOn(h, h.shape()) : null; // none under NoGrad: only the losses
        double total = 0;
        for (int from = 0; from < n; from += chunkRows) {
            int len = Math.min(chunkRows, n - from);
            Variable rows = Variable.of(h.narrow(0, from, len), grad != null);
            Variable loss = chunk.loss(rows, from, len);
            total += loss.value().item();
            if (loss.requiresGrad()) loss.backward();
            if (grad != null && rows.grad() != null) Ops.copyInto(rows.grad(), grad.narrow(0, from, len));
        }
        Tensor value = Tensor.scalar((float) total);
        if (grad == null) return Variable.constant(value);
        return Graph.record("chunked_loss", value, g -> {
            float u = g.item();
            if (u != 1f) {
                throw new IllegalStateException("chunked loss: the head's gradients were taken in the forward pass with an upstream gradient "
                        + "of 1, so backward must start at this loss (got an upstream gradient of " + u + ")");
            }
            return new Tensor[] {grad};
        }, hidden);
    }
}
