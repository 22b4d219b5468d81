package org.jtune.tensor;

/**
 * Which keys a query may attend to in scaled-dot-product attention. Query row i of a call has the
 * absolute position {@code queryOffset + i}; key j has position j.
 *
 * @param causal      keys after the query's position are masked
 * @param window      sliding window (Mistral): keys with position ≤ query − window are masked; 0 = none
 * @param queryOffset absolute position of the first query (the KV-cache length before this call)
 * @param segments    optional (B, S) I32 segment ids of the keys, for packed sequences: a query sees
 *                    only keys of its own segment (its own segment id is segments[b, queryOffset+i]);
 *                    null = one segment
 */
public record AttentionMask(boolean causal, int window, int queryOffset, Tensor segments) {
    public static AttentionMask causalMask() {
        return new AttentionMask(true, 0, 0, null);
    }

    public AttentionMask withWindow(int w) {
        return new AttentionMask(causal, w, queryOffset, segments);
    }

    public AttentionMask withQueryOffset(int offset) {
        return new AttentionMask(causal, window, offset, segments);
    }

    public AttentionMask withSegments(Tensor seg) {
        return new AttentionMask(causal, window, queryOffset, seg);
    }

    /** Whether query position qPos may see key position kPos (segments aside). */
    public boolean allows(int qPos, int kPos) {
        if (causal && kPos > qPos) return false;
        return window <= 0 || qPos - kPos < window;
    }
}
