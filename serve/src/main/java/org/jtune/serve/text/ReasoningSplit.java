package org.jtune.serve.text;

/**
 * A reasoning model's thinking split from its answer, as OpenAI-compatible servers do for Qwen3, QwQ and the
 * DeepSeek-R1 distills (vLLM's qwen3 and deepseek_r1 reasoning parsers, llama.cpp's reasoning format): the text between
 * {@value #OPEN} and {@value #CLOSE} is the message's reasoning, the rest its content. The prompt decides where the output
 * starts ({@link #startsInside}): inside a thought when the rendered prompt leaves a {@value #OPEN} open (DeepSeek-R1's and
 * Qwen3-Thinking's templates end with one), else in the answer, where a {@value #OPEN} opening the output (after blank
 * space) starts a thought. The tags are dropped, and the newlines right after {@value #CLOSE} (Qwen3's template strips
 * them when it writes an answer back into a conversation). A thought cut short (max_tokens) stays reasoning.
 *
 * <p>Incremental, for streaming: {@link #add} takes the output's next text and returns what it adds to each side; text
 * that may be the start of a tag is held back until the next text settles it, and {@link #finish} releases it.
 * Not thread-safe: one per choice.
 */
public final class ReasoningSplit {
    public static final String OPEN = "<think>", CLOSE = "</think>";

    /** What some output text added: to the reasoning, and to the content (either may be empty). */
    public record Delta(String reasoning, String content) {
        static final Delta NONE = new Delta("", "");

        public boolean isEmpty() {
            return reasoning.isEmpty() && content.isEmpty();
        }
    }

    private enum State { START, THINKING, AFTER_THOUGHT, ANSWER }

    private State state;
    private final StringBuilder pending = new StringBuilder();
    private final StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
    private boolean thought;

    /** A split whose output starts inside a thought ({@code inside}) or in the answer. */
    public ReasoningSplit(boolean inside) {
        state = inside ? State.THINKING : State.START;
        thought = inside;
    }

    /** Whether a rendered prompt leaves a thought open: its last {@value #OPEN} comes after its last {@value #CLOSE}. */
    public static boolean startsInside(String prompt) {
        return prompt.lastIndexOf(OPEN) > prompt.lastIndexOf(CLOSE);
    }

    /** A whole output split at once. */
    public static ReasoningSplit of(String output, boolean inside) {
        ReasoningSplit s = new ReasoningSplit(inside);
        s.add(output);
        s.finish();
        return s;
    }

    /** The output's next text; returns what it adds to the reasoning and to the content. */
    public Delta add(String text) {
        if (text.isEmpty()) return Delta.NONE;
        pending.append(text);
        int r = reasoning.length(), c = content.length();
        advance(false);
        return new Delta(reasoning.substring(r), content.substring(c));
    }

    /** The output ended: releases what was held back. */
    public Delta finish() {
        int r = reasoning.length(), c = content.length();
        advance(true);
        return new Delta(reasoning.substring(r), content.substring(c));
    }

    /** The reasoning so far, or null when the output had no thought. */
    public String reasoning() {
        return thought ? reasoning.toString() : null;
    }

    /** The content so far; null when a thought took the whole output. */
    public String content() {
        return thought && content.isEmpty() ? null : content.toString();
    }

    private void advance(boolean ended) {
        while (!pending.isEmpty()) {
            switch (state) {
                case START -> {
                    int lead = 0;
                    while (lead < pending.length() && Character.isWhitespace(pending.charAt(lead))) lead++;
                    String rest = pending.substring(lead);
                    if (rest.startsWith(OPEN)) {
                        pending.delete(0, lead + OPEN.length());
                        state = State.THINKING;
                        thought = true;
                    } else if (!ended && OPEN.startsWith(rest)) {
                        return; // blanks, or blanks and the start of <think>: not settled yet
                    } else {
                        state = State.ANSWER;
                    }
                }
                case THINKING -> {
                    int close = pending.indexOf(CLOSE);
                    if (close >= 0) {
                        reasoning.append(pending, 0, close);
                        pending.delete(0, close + CLOSE.length());
                        state = State.AFTER_THOUGHT;
                    } else {
                        int keep = ended ? 0 : partialTag(pending, CLOSE);
                        reasoning.append(pending, 0, pending.length() - keep);
                        pending.delete(0, pending.length() - keep);
                        return;
                    }
                }
                case AFTER_THOUGHT -> {
                    int lead = 0;
                    while (lead < pending.length() && pending.charAt(lead) == '\n') lead++;
                    pending.delete(0, lead);
                    if (!pending.isEmpty()) state = State.ANSWER;
                }
                case ANSWER -> {
                    content.append(pending);
                    pending.setLength(0);
                }
            }
        }
    }

    /** The length of the longest end of {@code s} that begins {@code tag} (a tag that may be completed by the next text). */
    private static int partialTag(CharSequence s, String tag) {
        for (int k = Math.min(tag.length() - 1, s.length()); k > 0; k--) {
            if (tag.startsWith(s.subSequence(s.length() - k, s.length()).toString())) return k;
        }
        return 0;
    }
}
