package org.jtune.serve.text;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/**
 * The thinking/answer split, whole and streamed in every cut: a thought opened by the output or left open by the prompt,
 * the newlines after it dropped, no thought at all, a thought cut short, tags split across pieces, a tag-like text that is
 * not one, and a late &lt;think&gt; inside the answer (content, as vLLM's parsers leave it).
 */
class ReasoningSplitTest {
    @Test
    void splitsAsAWholeAndInEveryCut() {
        check("<think>\nLet me see.\n</think>\n\nHello.", false, "\nLet me see.\n", "Hello.");
        check("  <think>x</think>y", false, "x", "y");
        check("Let me see.\n</think>\n\nHello.", true, "Let me see.\n", "Hello.");
        check("Hello, no thought.", false, null, "Hello, no thought.");
        check("<think>\nstill thinking when max_tokens came", false, "\nstill thinking when max_tokens came", null);
        check("<thin and more", false, null, "<thin and more");
        check("Hi <think>not a thought</think>", false, null, "Hi <think>not a thought</think>");
        check("<think>a</thinker> b</think>c", false, "a</thinker> b", "c");
        check("<think></think>\n\n", false, "", null);
        check("", false, null, "");
        check("   ", false, null, "   ");
    }

    /** The whole text, then every two-piece cut, then one character at a time, give the same parts. */
    private static void check(String output, boolean inside, String reasoning, String content) {
        ReasoningSplit whole = ReasoningSplit.of(output, inside);
        assertEquals(reasoning, whole.reasoning(), "reasoning of " + output);
        assertEquals(content, whole.content(), "content of " + output);
        for (int cut = 0; cut <= output.length(); cut++) {
            assertStreamed(output, inside, whole, output.substring(0, cut), output.substring(cut));
        }
        assertStreamed(output, inside, whole, output.split(""));
    }

    private static void assertStreamed(String output, boolean inside, ReasoningSplit whole, String... pieces) {
        ReasoningSplit s = new ReasoningSplit(inside);
        StringBuilder r = new StringBuilder(), c = new StringBuilder();
        for (String p : pieces) {
            ReasoningSplit.Delta d = s.add(p);
            r.append(d.reasoning());
            c.append(d.content());
            assertFalse(d.reasoning().contains("<think>") || d.reasoning().contains("</think>"), "a tag streamed as reasoning out of " + output);
        }
        ReasoningSplit.Delta d = s.finish();
        r.append(d.reasoning());
        c.append(d.content());
        assertEquals(whole.reasoning() == null ? "" : whole.reasoning(), r.toString(), "streamed reasoning of " + output);
        assertEquals(whole.content() == null ? "" : whole.content(), c.toString(), "streamed content of " + output);
        assertEquals(whole.reasoning(), s.reasoning());
        assertEquals(whole.content(), s.content());
    }

    @Test
    void thePromptDecidesWhereTheOutputStarts() {
        assertTrue(ReasoningSplit.startsInside("<|im_start|>assistant\n<think>\n"));
        assertFalse(ReasoningSplit.startsInside("<|im_start|>assistant\n<think>\n\n</think>\n\n"), "Qwen3 with enable_thinking false");
        assertFalse(ReasoningSplit.startsInside("<|im_start|>assistant\n"));
    }
}
