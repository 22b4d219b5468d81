package org.jtune.bench;

import java.util.ArrayList;
import java.util.List;
import org.jtune.models.config.LlamaConfig;

/**
 * The model and batch shape of a training-step benchmark, and the bytes an ideal implementation
 * of one forward + backward needs for it, counted from the shapes (F32, 4 bytes a value):
 * <pre>
 *   P      = V·d (embed) + V·d (untied head) + d (final norm) + L·(4·d·d + 3·d·f + 2·d)   parameters
 *   layer  = N·(8·d + 3·f)     values one layer's backward reads (N = B·T):
 *              h_in (input_layernorm input), x (its output, read by the q/k/v weight gradients),
 *              q, k, v after RoPE, o (attention output, read by attention backward and o_proj's dW),
 *              r (post_attention_layernorm input), x2 (its output), gate, up, silu(gate)·up (down_proj's dW)
 *   head   = 2·N·d + N·V       the final norm's input and output, and one logits buffer (the fused
 *                              cross-entropy turns it into its own gradient in place)
 *   saved  = L·layer + head                          without checkpointing
 *          = L·N·d + layer + head                    with per-layer checkpointing (each layer's input, and
 *                                                    one layer recomputed at a time)
 *   ideal  = 4·(P + P + saved)                       parameters, their gradients, saved activations
 * </pre>
 * Per-row scalars (RMSNorm's 1/rms, attention's logsumexp) are O(N·heads) and left out. A chunked
 * lm_head + cross-entropy could avoid the N·V buffer; neither we nor PyTorch do, so it is counted.
 */
public record TrainingShape(int dim, int layers, int heads, int kvHeads, int hidden, int vocab, int batch, int seq) {
    /** llama2.c's stories15M shape (untied head, as the PyTorch peer builds it) at batch 4 × 256. */
    public static TrainingShape stories15M() {
        return new TrainingShape(288, 6, 6, 6, 768, 32000, 4, 256);
    }

    public LlamaConfig config() {
        return LlamaConfig.builder().hiddenSize(dim).intermediateSize(hidden).numHiddenLayers(layers)
                .numAttentionHeads(heads).numKeyValueHeads(kvHeads).vocabSize(vocab).rmsNormEps(1e-5)
                .maxPositionEmbeddings(Math.max(seq, 256)).tieWordEmbeddings(false).build();
    }

    public int tokens() {
        return batch * seq;
    }

    public long parameters() {
        long d = dim, f = hidden, hd = dim / heads, kvd = (long) kvHeads * hd;
        long perLayer = d * d + 2 * kvd * d + d * d + 3 * d * f + 2 * d; // q, k, v, o, gate/up/down, two norms
        return 2L * vocab * d + d + layers * perLayer;
    }

    /** Values one layer's backward reads (see the class comment). */
    public long layerActivations() {
        long n = tokens(), d = dim, f = hidden, kvd = (long) kvHeads * (dim / heads);
        return n * (6 * d + 2 * kvd + 3 * f); // h_in, x, q, o, r, x2 (6·d), k, v (2·kvd), gate, up, mlp (3·f)
    }

    public long savedActivations(boolean checkpointing) {
        long n = tokens(), head = 2 * n * dim + n * (long) vocab;
        return (checkpointing ? layers * n * dim + layerActivations() : layers * layerActivations()) + head;
    }

    /** Bytes of parameters, gradients and saved activations, all F32. */
    public long idealBytes(boolean checkpointing) {
        return 4 * (2 * parameters() + savedActivations(checkpointing));
    }

    /** The peer script's arguments for this shape. */
    public List<String> peerArgs() {
        List<String> a = new ArrayList<>();
        for (String[] kv : new String[][] {{"--dim", "" + dim}, {"--layers", "" + layers}, {"--heads", "" + heads},
                {"--kv-heads", "" + kvHeads}, {"--hidden", "" + hidden}, {"--vocab", "" + vocab}, {"--batch", "" + batch},
                {"--seq", "" + seq}}) {
            a.add(kv[0]);
            a.add(kv[1]);
        }
        return a;
    }
}
