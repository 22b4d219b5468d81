package org.jtune.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Jinja2 precedence of `not` (looser than tests and comparisons), restored before Jinjava parses. */
class NotPrecedenceTest {

    @Test
    void wrapsTheOperandUpToAndOrIfElseOrTheEndOfTheTag() {
        assertEquals("{% if not (x is defined) or y %}", NotPrecedence.rewrite("{% if not x is defined or y %}"));
        assertEquals("{{- a if not (b|length > 2) else c -}}", NotPrecedence.rewrite("{{- a if not b|length > 2 else c -}}"));
        assertEquals("{% set f = not (not (g)) %}", NotPrecedence.rewrite("{% set f = not not g %}"));
        assertEquals("{{ f(not (x), y) }}", NotPrecedence.rewrite("{{ f(not x, y) }}"));
        assertEquals("{% if not ((a or b)) %}", NotPrecedence.rewrite("{% if not (a or b) %}"));
    }

    @Test
    void leavesIsNotNotInStringsCommentsAndTextAlone() {
        String untouched = "not here {# not x is y #}{% if x is not none and 'a' not in y %}{{ 'not x is y' }}{% endif %}"
                + "{% raw %}{{ not x is y }}{% endraw %}";
        assertEquals(untouched, NotPrecedence.rewrite(untouched));
    }

    @Test
    void rendersAsJinja2Would() throws Exception {
        ChatTemplate t = ChatTemplate.of("{{ 'yes' if not 1 == 2 else 'no' }}|{{ 'yes' if not tools is defined else 'no' }}", "t", java.util.Map.of());
        assertEquals("yes|yes", t.render(java.util.List.of(), false, java.util.Map.of()));
    }
}
