package org.jtune.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/** Chat templates: the built-in ones, and the Jinja features Hugging Face templates use. */
class ChatTemplateTest {
    private static final List<Message> CONVERSATION = List.of(
            Message.system("Be brief."), Message.user("Hi"), Message.assistant("Hello!"), Message.user("Card lost?"));

    private static String render(String source, Map<String, Object> extra) throws JtuneException {
        return ChatTemplate.of(source, "test template", Map.of("bos_token", "<s>", "eos_token", "</s>"))
                .render(List.of(Message.user(" hi there ")), true, extra);
    }

    @Test
    void chatml() throws Exception {
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                        + "<|im_start|>user\nCard lost?<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.named("chatml").render(CONVERSATION, true, Map.of()));
    }

    @Test
    void llama2() throws Exception {
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Card lost? [/INST]",
                ChatTemplate.named("llama2").render(CONVERSATION, true, Map.of()));
    }

    @Test
    void llama3() throws Exception {
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nCard lost?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                ChatTemplate.named("llama3").render(CONVERSATION, true, Map.of()));
    }

    @Test
    void mistral() throws Exception {
        assertEquals("<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Card lost? [/INST]",
                ChatTemplate.named("mistral").render(CONVERSATION, true, Map.of()));
    }

    @Test
    void builtinTemplatesRefuseRolesThatDoNotAlternate() throws Exception {
        JtuneException e = assertThrows(JtuneException.class,
                () -> ChatTemplate.named("mistral").render(List.of(Message.user("a"), Message.user("b")), true, Map.of()));
        assertTrue(e.getMessage().contains("roles must alternate"), e.getMessage());
        assertThrows(JtuneException.class, () -> ChatTemplate.named("nope"));
    }

    @Test
    void pythonStringMethods() throws Exception {
        String source = "{% set c = messages[0]['content'] %}{{ c.strip() }}|{{ c.lstrip() }}|{{ c.rstrip() }}|{{ c.upper() }}|"
                + "{{ c.strip().title() }}|{{ 'a.b..c'.split('.') }}|{{ c.split() }}|{{ c.startswith(' hi') }}|{{ c.endswith('x') }}|"
                + "{{ 'xxhixx'.strip('x') }}|{{ 'a-b-c'.replace('-', '+') }}|{{ ', '.join(['a', 'b']) }}|{{ 'abc'[-1] }}|{{ 'Hi'.lower() }}";
        assertEquals("hi there|hi there | hi there| HI THERE |Hi There|['a', 'b', '', 'c']|['hi', 'there']|True|False|hi|a+b+c|a, b|c|hi",
                render(source, Map.of()));
    }

    @Test
    void jinjaFeaturesUsedByHuggingFaceTemplates() throws Exception {
        String source = """
                {%- set ns = namespace(found=false) %}
                {%- for m in messages %}{% if m['role'] == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}
                {{- ns.found }}|{{ messages[0] is mapping }}|{{ messages[0]['content'] is string }}|{{ tools is defined }}
                {%- for x in ['a', 'b', 'c'] %}|{{ loop.index0 }}{{ x }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{% endfor %}
                |{{ messages[1:] | length }}|{{ bos_token }}{{ eos_token }}|{{ add_generation_prompt }}
                """;
        assertEquals("True|True|True|False|0aF|1b|2cL|0|<s></s>|True", render(source, Map.of()));
    }

    @Test
    void theIterableTestIsPythons() throws Exception { // Python's jinja2 3.1 prints True|True|True|False|False
        String source = "{{ messages[0]['content'] is iterable }}|{{ messages[0] is iterable }}|{{ [1] is iterable }}|{{ 3 is iterable }}|{{ none is iterable }}";
        assertEquals("True|True|True|False|False", render(source, Map.of()));
    }

    @Test
    void tojsonWritesLikePythonJsonDumps() throws Exception {
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("name", "lookup");
        tool.put("args", List.of(1, 2.5, true, "é\n"));
        assertEquals("{\"name\": \"lookup\", \"args\": [1, 2.5, true, \"é\\n\"]}", render("{{ tool | tojson }}", Map.of("tool", tool)));
        assertEquals("{\n  \"name\": \"lookup\",\n  \"args\": [\n    1,\n    2.5,\n    true,\n    \"é\\n\"\n  ]\n}",
                render("{{ tool | tojson(indent=2) }}", Map.of("tool", tool)));
    }

    @Test
    void trimBlocksLstripBlocksAndTheTrailingNewline() throws Exception {
        String source = "A\n    {% if true %}\n    B\n    {% endif %}\n{# note #}\nC\n";
        assertEquals("A\n    B\nC", render(source, Map.of()));
    }

    @Test
    void messageTextIsNeverRenderedAsATemplate() throws Exception {
        String out = ChatTemplate.named("chatml").render(List.of(Message.user("{{ 7 * 7 }} {% if true %}x{% endif %}")), false, Map.of());
        assertEquals("<|im_start|>user\n{{ 7 * 7 }} {% if true %}x{% endif %}<|im_end|>\n", out);
    }

    @Test
    void raiseExceptionAndUnrenderableTemplatesAreJtuneExceptions() {
        JtuneException raised = assertThrows(JtuneException.class, () -> render("{{ raise_exception('only user turns please') }}", Map.of()));
        assertTrue(raised.getMessage().contains("only user turns please") && raised.getMessage().contains("test template"), raised.getMessage());
        JtuneException method = assertThrows(JtuneException.class, () -> render("{{ messages[0]['content'].nosuchmethod() }}", Map.of()));
        assertTrue(method.getMessage().contains("nosuchmethod"), method.getMessage());
        assertThrows(JtuneException.class, () -> render("{% for x in %}", Map.of()));
        assertThrows(JtuneException.class, () -> render("{{ undefined_function(1) }}", Map.of()));
    }

    @Test
    void strftimeFollowsPythonDirectives() {
        LocalDateTime t = LocalDateTime.of(2024, 7, 26, 14, 5, 9);
        assertEquals("26 Jul 2024", JinjaEnvironment.strftime(t, "%d %b %Y"));
        assertEquals("2024-07-26 14:05:09 Friday July 100%", JinjaEnvironment.strftime(t, "%Y-%m-%d %H:%M:%S %A %B 100%%"));
    }

    @Test
    void mistralToolCallsUseTojsonAndStringSlicing() throws Exception {
        Path dir = SharedData.require("hf/mistral-7b-instruct-v0.3");
        String json = """
                [{"role": "user", "content": "Weather?"},
                 {"role": "assistant", "tool_calls": [{"id": "abcdefghi", "function": {"name": "weather", "arguments": {"city": "Paris"}}}]},
                 {"role": "tool", "tool_call_id": "abcdefghi", "content": "sunny"},
                 {"role": "assistant", "content": "It is sunny."}]
                """;
        List<Message> messages = new java.util.ArrayList<>();
        for (var node : new ObjectMapper().readTree(json)) messages.add(Message.fromJson(node));
        assertEquals("<s>[INST] Weather?[/INST][TOOL_CALLS] [{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcdefghi\"}]</s>"
                        + "[TOOL_RESULTS] {\"content\": sunny, \"call_id\": \"abcdefghi\"}[/TOOL_RESULTS] It is sunny.</s>",
                ChatTemplate.load(dir).render(messages, false, Map.of()));
        JtuneException e = assertThrows(JtuneException.class,
                () -> ChatTemplate.load(dir).render(List.of(Message.assistant("first")), false, Map.of()));
        assertTrue(e.getMessage().contains("must alternate"), e.getMessage());
    }

    @Test
    void mistralToolsUseAFilteredLoop() throws Exception {
        // Expected text rendered by Python Jinja2 3.1.6 set up as transformers does (trim/lstrip blocks, tojson).
        Path dir = SharedData.require("hf/mistral-7b-instruct-v0.3");
        String tools = """
                [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                  "return": {"type": "string"}}}]
                """;
        Object toolList = new ObjectMapper().readValue(tools, Object.class);
        assertEquals("<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
                        + "\"Weather of a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
                        + "\"required\": [\"city\"]}}}][/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST]",
                ChatTemplate.load(dir).render(List.of(Message.user("Weather in Paris?")), true, Map.of("tools", toolList)));
    }

    @Test
    void aModelWithoutATemplateNamesTheBuiltins() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        JtuneException e = assertThrows(JtuneException.class, () -> ChatTemplate.load(dir));
        assertTrue(e.getMessage().contains("chatml") && e.getMessage().contains(dir.toString()), e.getMessage());
        assertEquals("<s>[INST] Hi [/INST]", ChatTemplate.forModel(dir, "llama2").render(List.of(Message.user("Hi")), true, Map.of()));
    }
}
