package org.jtune.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Jinja2 syntax that Jinjava parses differently, rewritten before Jinjava sees the template. */
class Jinja2SyntaxTest {

    @Test
    void wrapsTheOperandUpToAndOrIfElseOrTheEndOfTheTag() {
        assertEquals("{% if not (x is defined) or y %}", Jinja2Syntax.rewrite("{% if not x is defined or y %}"));
        assertEquals("{{- a if not (b|length > 2) else c -}}", Jinja2Syntax.rewrite("{{- a if not b|length > 2 else c -}}"));
        assertEquals("{% set f = not (not (g)) %}", Jinja2Syntax.rewrite("{% set f = not not g %}"));
        assertEquals("{{ f(not (x), y) }}", Jinja2Syntax.rewrite("{{ f(not x, y) }}"));
        assertEquals("{% if not ((a or b)) %}", Jinja2Syntax.rewrite("{% if not (a or b) %}"));
    }

    @Test
    void leavesIsNotNotInStringsCommentsAndTextAlone() {
        String untouched = "not here {# not x is y #}{% if x is not none and 'a' not in y %}{{ 'not x is y' }}{% endif %}"
                + "{% raw %}{{ not x is y }}{% endraw %}";
        assertEquals(untouched, Jinja2Syntax.rewrite(untouched));
    }

    @Test
    void keywordArgumentValuesReversedSlicesAndFilteredLoops() {
        assertEquals("{% set ns = namespace(a=(1), n=(messages|length - 1)) %}",
                Jinja2Syntax.rewrite("{% set ns = namespace(a=1, n=messages|length - 1) %}"));
        assertEquals("{% for m in (messages|reverse|list) %}", Jinja2Syntax.rewrite("{% for m in messages[::-1] %}"));
        assertEquals("{{ (a.b[0]|reverse|list)[0] }}", Jinja2Syntax.rewrite("{{ a.b[0][::-1][0] }}"));
        assertEquals("{%- for k, v in (d.items())|jinja2_loop_if('k != \\'x\\'', 'k,v') %}",
                Jinja2Syntax.rewrite("{%- for k, v in d.items() if k != 'x' %}"));
        assertEquals("{% for x in (a if b else c) %}", Jinja2Syntax.rewrite("{% for x in (a if b else c) %}"));
    }

    @Test
    void rendersAsJinja2Would() throws Exception {
        // Expected values are Python Jinja2 3.1.6's output for the same templates.
        java.util.List<Message> messages = java.util.List.of(Message.system("s"), Message.user("u"), Message.assistant("a"));
        String source = "{{ 'yes' if not 1 == 2 else 'no' }}|{{ 'yes' if not tools is defined else 'no' }}"
                + "|{% set ns = namespace(last=messages|length - 1) %}{{ ns.last }}"
                + "|{% for m in messages[::-1] %}{{ m.role }},{% endfor %}"
                + "|{% for m in messages if m.role != 'system' %}{{ loop.index0 }}{{ m.role }}{{ loop.last }}{% endfor %}"
                + "|{{ messages | length > 1 }}|{{ 'a-b-c'.rsplit('-', 1) }}";
        assertEquals("yes|yes|2|assistant,user,system,|0userFalse1assistantTrue|True|['a-b', 'c']",
                ChatTemplate.of(source, "t", java.util.Map.of()).render(messages, false, java.util.Map.of()));
    }
}
