package org.jtune.models.tools;

import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Keeps a call that can only open an answer well-formed (Llama 3.1's JSON calls, which no tag announces). The answer's
 * first token that is not blank decides: one whose text starts with '{' opens the call, and of those only the ones the
 * call's JSON allows are kept; the tag token (Llama's {@code <|python_tag|>}, which the 3.x models may write before a
 * call) opens it too; any other token makes the answer text, free from then on. When tool_choice forces a call, the
 * answer is the call's JSON from its first token. After the call only a stop id can follow (the JSON constraint's end ids).
 */
final class LeadingCallConstraint implements LogitsProcessor {
    private final JsonConstraint call;
    private final int tagId;          // -1: no tag
    private final long[] braces;      // tokens whose first byte that is not blank is '{'
    private final long[] blanks;      // tokens of blank bytes only (they leave the answer undecided)
    private final boolean forced;

    LeadingCallConstraint(JsonConstraint call, int tagId, Tokenizer tokenizer, boolean forced) {
        this.call = call;
        this.tagId = tagId;
        this.forced = forced;
        int n = tokenizer.vocabSize();
        braces = new long[(n + 63) / 64];
        blanks = new long[(n + 63) / 64];
        for (int id = 0; id < n; id++) {
            switch (firstNonBlank(tokenizer.tokenBytes(id))) {
                case '{' -> braces[id >>> 6] |= 1L << id;
                case BLANK -> blanks[id >>> 6] |= 1L << id;
                default -> {}
            }
        }
    }

    private static final int BLANK = -2;

    /** The first byte of a token's text that is not a space, tab or newline; BLANK when all are; -1 for a special token. */
    static int firstNonBlank(byte[] bytes) {
        if (bytes == null) return -1;
        for (byte b : bytes) if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return b;
        return bytes.length == 0 ? -1 : BLANK;
    }

    private static boolean has(long[] bits, int id) {
        return id >>> 6 < bits.length && (bits[id >>> 6] & (1L << id)) != 0;
    }

    @Override
    public State start() {
        return new AnswerState();
    }

    private enum Phase { UNDECIDED, CALL, TEXT }

    private final class AnswerState implements State {
        private Phase phase = forced ? Phase.CALL : Phase.UNDECIDED;
        private final State json = call.start();

        @Override
        public void process(float[] logits) {
            switch (phase) {
                case CALL -> json.process(logits);
                case TEXT -> {}
                case UNDECIDED -> {
                    float[] inCall = logits.clone();
                    json.process(inCall);
                    for (int i = 0; i < logits.length; i++) if (has(braces, i) && inCall[i] == Float.NEGATIVE_INFINITY) logits[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }

        @Override
        public void accept(int token) {
            switch (phase) {
                case CALL -> json.accept(token);
                case TEXT -> {}
                case UNDECIDED -> {
                    if (token == tagId) {
                        phase = Phase.CALL;
                    } else if (has(braces, token)) {
                        phase = Phase.CALL;
                        json.accept(token);
                    } else if (!has(blanks, token)) {
                        phase = Phase.TEXT;
                    }
                }
            }
        }
    }

    /** The index of the first token of ids[0, count) whose text is not blank, or -1. */
    static int firstWord(int[] ids, int count, Tokenizer tokenizer) {
        for (int i = 0; i < count; i++) if (firstNonBlank(tokenizer.tokenBytes(ids[i])) != BLANK) return i;
        return -1;
    }
}
