package org.jtune.train.prep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** excess_length_strategy truncate: the last answer is kept whole when it fits, else cut at its end after half a window of prompt. */
class TruncationTest {
    private static TokenizedExample example(int promptLen, int answerLen, int tail) {
        int n = promptLen + answerLen + tail;
        int[] ids = new int[n];
        boolean[] trained = new boolean[n];
        for (int i = 0; i < n; i++) ids[i] = i;
        for (int i = promptLen; i < promptLen + answerLen; i++) trained[i] = true;
        return new TokenizedExample(ids, trained, "t:1");
    }

    @Test
    void shortExamplesAreUntouched() {
        TokenizedExample e = example(3, 2, 0);
        assertSame(e, Truncation.keepAnswer(e, 5));
    }

    @Test
    void answerThatFitsIsKeptWholeAndTheOldestPromptTokensGo() {
        TokenizedExample cut = Truncation.keepAnswer(example(10, 3, 2), 6);
        assertArrayEquals(new int[] {7, 8, 9, 10, 11, 12}, cut.ids()); // ends where the answer ends; the tail after it goes too
        assertArrayEquals(new boolean[] {false, false, false, true, true, true}, cut.trained());
    }

    @Test
    void answerLongerThanTheWindowStartsHalfAWindowAfterThePrompt() {
        TokenizedExample cut = Truncation.keepAnswer(example(10, 20, 0), 8);
        assertArrayEquals(new int[] {6, 7, 8, 9, 10, 11, 12, 13}, cut.ids());
    }
}
