package org.jtune.train.prep;

/**
 * One training example as tokens: {@code ids} and, per position, whether the model is trained to
 * predict that token ({@code trained[i]} — the loss at position i−1 targets ids[i]).
 *
 * @param source file:line of the example, for messages
 */
public record TokenizedExample(int[] ids, boolean[] trained, String source) {
    public TokenizedExample {
        if (ids.length != trained.length) throw new IllegalArgumentException("ids and mask differ in length");
    }

    public int length() {
        return ids.length;
    }

    /** Number of positions whose next token is trained (the loss terms this example adds). */
    public int trainedTokens() {
        int n = 0;
        for (int i = 1; i < trained.length; i++) if (trained[i]) n++;
        return n;
    }
}
