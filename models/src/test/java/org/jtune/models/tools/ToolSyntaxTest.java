package org.jtune.models.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.qwen2.Qwen2TokenizerTest;
import org.jtune.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calls in the three syntaxes. Rendering: Mistral-7B-Instruct-v0.3's own template, with tools, an earlier call and its
 * result, gives what Python's jinja2 renders from it (the expected text was rendered there with HF's settings). Generation:
 * random sampling under each syntax's constraint, on the real Mistral and TinyLlama vocabularies and a Qwen2-style one with
 * the Hermes tags, always ends in calls that parse, name an offered tool and whose arguments networknt's validator accepts
 * against the tool's schema; tool_choice and parallel_tool_calls are obeyed.
 */
class ToolSyntaxTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final Path MISTRAL = Path.of("../../shared/hf/mistral-7b-instruct-v0.3");
    private static final Path TINYLLAMA = Path.of("../../shared/hf/tinyllama-1.1b-chat-v1.0");
    static final String WEATHER = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"The weather in a city\", "
            + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 12}, "
            + "\"unit\": {\"enum\": [\"C\", \"F\"]}}, \"required\": [\"city\", \"unit\"], \"additionalProperties\": false}, \"strict\": true}}";
    static final String TIME = "{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"parameters\": {\"type\": \"object\", "
            + "\"properties\": {\"zone\": {\"enum\": [\"UTC\", \"CET\"]}}, \"required\": [\"zone\"], \"additionalProperties\": false}}}";
    /** A ChatML template of our own in the Hermes style: tools in the system message, calls between tags. */
    static final String HERMES_TEMPLATE = """
            {%- if tools %}<|im_start|>system
            You may call these functions:
            {% for t in tools %}{{ t | tojson }}
            {% endfor %}Call one as <tool_call>{"name": ..., "arguments": ...}</tool_call>.<|im_end|>
            {% endif %}
            {%- for m in messages %}
            {%- if m.role == 'tool' %}<|im_start|>user
            <tool_response>{{ m.content }}</tool_response><|im_end|>
            {% elif m.tool_calls %}<|im_start|>assistant
            {% for c in m.tool_calls %}<tool_call>{"name": "{{ c.function.name }}", "arguments": {{ c.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
            {% else %}<|im_start|>{{ m.role }}
            {{ m.content }}<|im_end|>
            {% endif %}
            {%- endfor %}{% if add_generation_prompt %}<|im_start|>assistant
            {% endif %}""";

    private static List<ToolDefinition> tools;
    private static Tokenizer mistral;

    @BeforeAll
    static void load() throws Exception {
        tools = ToolDefinition.fromOpenAi(JSON.readTree("[" + WEATHER + ", " + TIME + "]"));
        mistral = Tokenizer.load(MISTRAL);
    }

    static List<Message> conversation(String callId) {
        Map<String, Object> function = new java.util.LinkedHashMap<>(); // in the order a client's JSON gives
        function.put("name", "get_weather");
        function.put("arguments", "{\"city\": \"Paris\"}");
        Map<String, Object> call = new java.util.LinkedHashMap<>();
        call.put("id", callId);
        call.put("type", "function");
        call.put("function", function);
        return List.of(Message.user("Weather in Paris?"), new Message("assistant", null, Map.of("tool_calls", List.of(call))),
                new Message("tool", "22 C", Map.of("tool_call_id", callId)), Message.assistant("It is 22 C."), Message.user("And Lyon?"));
    }

    @Test
    void mistralRendersToolsCallsAndResultsAsItsTemplateDoesInJinja2() throws Exception {
        ChatTemplate template = ChatTemplate.load(MISTRAL);
        ToolSyntax syntax = ToolSyntax.of(template, mistral);
        assertSame(TaggedToolSyntax.MISTRAL, syntax);
        ToolSyntax.Rendering r = syntax.render(conversation("abc123XYZ"), new ToolUse(tools.subList(0, 1), ToolChoice.AUTO, true));
        String weather = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"The weather in a city\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"maxLength\": 12}, \"unit\": {\"enum\": [\"C\", \"F\"]}}, "
                + "\"required\": [\"city\", \"unit\"], \"additionalProperties\": false}}}";
        assertEquals("<s>[INST] Weather in Paris?[/INST][TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abc123XYZ\"}]</s>"
                + "[TOOL_RESULTS] {\"content\": 22 C, \"call_id\": \"abc123XYZ\"}[/TOOL_RESULTS] It is 22 C.</s>"
                + "[AVAILABLE_TOOLS] [" + weather + "][/AVAILABLE_TOOLS][INST] And Lyon?[/INST]", template.render(r.messages(), true, r.variables()));
        ToolSyntax.Rendering none = syntax.render(conversation("abc123XYZ"), new ToolUse(tools, ToolChoice.NONE, true));
        assertFalse(template.render(none.messages(), true, none.variables()).contains("AVAILABLE_TOOLS"), "tool_choice none shows no tools");
        float[] row = new float[mistral.vocabSize()];
        syntax.constraint(new ToolUse(tools, ToolChoice.NONE, true), mistral, List.of(2)).start().process(row);
        assertEquals(Float.NEGATIVE_INFINITY, row[mistral.idOf("[TOOL_CALLS]").getAsInt()], "and cannot open a call");
        assertEquals(1, java.util.stream.IntStream.range(0, row.length).filter(i -> row[i] != 0f).count());
    }

    @Test
    void theSyntaxFollowsTheTemplateAndTokenizer(@TempDir Path dir) throws Exception {
        assertSame(JsonToolSyntax.INSTANCE, ToolSyntax.of(ChatTemplate.load(TINYLLAMA), Tokenizer.load(TINYLLAMA)), "a template without tools");
        Qwen2TokenizerTest.write(dir, List.of(), List.of("<tool_call>", "</tool_call>"), HERMES_TEMPLATE);
        Tokenizer hermes = Tokenizer.load(dir);
        assertSame(TaggedToolSyntax.HERMES, ToolSyntax.of(ChatTemplate.load(dir), hermes));
        assertSame(JsonToolSyntax.INSTANCE, ToolSyntax.of(ChatTemplate.named("chatml"), hermes), "the tags, but not in the template");
        assertSame(JsonToolSyntax.INSTANCE, ToolSyntax.of(ChatTemplate.load(dir), Tokenizer.load(TINYLLAMA)), "the template, but no tag tokens");
    }

    @Test
    void mistralCallsUnderTheConstraintAreValid() {
        Random rnd = new Random(5);
        int openId = mistral.idOf("[TOOL_CALLS]").getAsInt();
        for (ToolChoice choice : List.of(ToolChoice.REQUIRED, new ToolChoice(ToolChoice.Mode.FUNCTION, "get_time"))) {
            for (boolean parallel : List.of(true, false)) {
                ToolUse use = new ToolUse(tools, choice, parallel);
                LogitsProcessor p = TaggedToolSyntax.MISTRAL.constraint(use, mistral, List.of(2));
                int ended = 0;
                for (int run = 0; run < 12; run++) {
                    int[] ids = sample(p, mistral, rnd, 300, List.of(2), null);
                    if (ids == null) continue;
                    ended++;
                    assertEquals(openId, ids[0], "a forced call opens at once");
                    ToolReply reply = TaggedToolSyntax.MISTRAL.parse(ids, mistral, use);
                    checkCalls(reply, use, mistral.decode(ids, false));
                    assertNull(reply.content());
                    for (ToolCall c : reply.calls()) assertTrue(c.id().matches("[A-Za-z0-9]{9}"), "Mistral's templates want 9 letters or digits: " + c.id());
                }
                assertTrue(ended >= 8, choice + ", parallel " + parallel + ": only " + ended + " of 12 runs ended");
            }
        }
    }

    @Test
    void inAutoModeTextComesFirstAndTheCallAfterTheModelOpensIt() {
        Random rnd = new Random(9);
        ToolUse use = new ToolUse(tools, ToolChoice.AUTO, true);
        LogitsProcessor p = TaggedToolSyntax.MISTRAL.constraint(use, mistral, List.of(2));
        int[] text = mistral.encode("Let me look.", false);
        int[] ids = sample(p, mistral, rnd, 300, List.of(2), concat(text, new int[] {mistral.idOf("[TOOL_CALLS]").getAsInt()}));
        assertNotNull(ids);
        ToolReply reply = TaggedToolSyntax.MISTRAL.parse(ids, mistral, use);
        assertEquals("Let me look.", reply.content());
        checkCalls(reply, use, mistral.decode(ids, false));
        assertEquals(ToolReply.text("Let me look."), TaggedToolSyntax.MISTRAL.parse(concat(text, new int[] {2}), mistral, use), "no call: all text");
    }

    @Test
    void aCallCutByTheTokenLimitStaysText() {
        ToolUse use = new ToolUse(tools, ToolChoice.AUTO, true);
        int[] cut = concat(new int[] {mistral.idOf("[TOOL_CALLS]").getAsInt()}, mistral.encode(" [{\"name\": \"get_time\", \"arguments\": {\"zone\":", false));
        ToolReply reply = TaggedToolSyntax.MISTRAL.parse(cut, mistral, use);
        assertTrue(reply.calls().isEmpty());
        assertEquals(mistral.decode(cut, true), reply.content());
        int[] unknown = concat(new int[] {mistral.idOf("[TOOL_CALLS]").getAsInt()}, mistral.encode(" [{\"name\": \"rm_rf\", \"arguments\": {}}]", false));
        assertTrue(TaggedToolSyntax.MISTRAL.parse(unknown, mistral, use).calls().isEmpty(), "a function that was not offered is not a call");
    }

    @Test
    void hermesCallsOneObjectPerTagPairAndParallelOnesRepeatTheTags(@TempDir Path dir) throws Exception {
        Qwen2TokenizerTest.write(dir, List.of("\" :", "n a", "na m", "nam e"), List.of("<tool_call>", "</tool_call>"), HERMES_TEMPLATE);
        Tokenizer tok = Tokenizer.load(dir);
        int open = tok.idOf("<tool_call>").getAsInt(), close = tok.idOf("</tool_call>").getAsInt(), end = tok.idOf("<|im_end|>").getAsInt();
        ChatTemplate template = ChatTemplate.load(dir);
        ToolSyntax.Rendering r = TaggedToolSyntax.HERMES.render(conversation("call_1"), new ToolUse(tools, ToolChoice.AUTO, true));
        String prompt = template.render(r.messages(), true, r.variables());
        assertTrue(prompt.contains("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>"), prompt);
        assertTrue(prompt.startsWith("<|im_start|>system\nYou may call these functions:\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), prompt);
        Random rnd = new Random(13);
        int multi = 0;
        for (boolean parallel : List.of(true, false)) {
            ToolUse use = new ToolUse(tools, ToolChoice.REQUIRED, parallel);
            LogitsProcessor p = TaggedToolSyntax.HERMES.constraint(use, tok, List.of(end));
            int ended = 0;
            for (int run = 0; run < 12; run++) {
                int[] ids = sample(p, tok, rnd, 600, List.of(end), null);
                if (ids == null) continue;
                ended++;
                assertEquals(open, ids[0]);
                ToolReply reply = TaggedToolSyntax.HERMES.parse(ids, tok, use);
                checkCalls(reply, use, tok.decode(ids, false));
                assertEquals(Arrays.stream(ids).filter(i -> i == close).count(), reply.calls().size(), "one call per tag pair");
                if (reply.calls().size() > 1) multi++;
            }
            assertTrue(ended >= 8, "parallel " + parallel + ": only " + ended + " of 12 runs ended");
        }
        assertTrue(multi > 0, "parallel calls were sampled");
    }

    @Test
    void theJsonSyntaxDescribesToolsAndConstrainsTheWholeAnswer() throws Exception {
        Tokenizer tok = Tokenizer.load(TINYLLAMA);
        ToolUse auto = new ToolUse(tools, ToolChoice.AUTO, false);
        List<Message> msgs = new ArrayList<>(List.of(Message.system("Be brief.")));
        msgs.addAll(conversation("call_1"));
        ToolSyntax.Rendering r = JsonToolSyntax.INSTANCE.render(msgs, auto);
        assertEquals(List.of("system", "user", "assistant", "user", "assistant", "user"), r.messages().stream().map(Message::role).toList());
        assertTrue(r.messages().get(0).content().startsWith("Be brief.\n\nFunctions you can call"), r.messages().get(0).content());
        assertTrue(r.messages().get(0).content().endsWith("to call functions, or {\"content\": \"...\"} to answer. One call at a time."));
        assertEquals("{\"tool_calls\":[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]}", r.messages().get(2).content());
        assertEquals("{\"tool_results\":[{\"tool_call_id\":\"call_1\",\"content\":\"22 C\"}]}", r.messages().get(3).content());
        assertEquals("{\"content\":\"It is 22 C.\"}", r.messages().get(4).content());
        ChatTemplate.load(TINYLLAMA).render(r.messages(), true, r.variables()); // renders

        Random rnd = new Random(17);
        int eos = tok.eosIds()[0];
        int calls = 0, texts = 0;
        for (ToolUse use : List.of(auto, new ToolUse(tools, ToolChoice.REQUIRED, true))) {
            LogitsProcessor p = JsonToolSyntax.INSTANCE.constraint(use, tok, List.of(eos));
            for (int run = 0; run < 16; run++) {
                int[] ids = sample(p, tok, rnd, 400, List.of(eos), null);
                if (ids == null) continue;
                ToolReply reply = JsonToolSyntax.INSTANCE.parse(ids, tok, use);
                if (reply.calls().isEmpty()) {
                    assertFalse(use.choice().forced(), "a forced call always calls: " + tok.decode(ids, false));
                    assertNotNull(JSON.readTree(JSON.writeValueAsString(Map.of("content", reply.content()))));
                    texts++;
                } else {
                    checkCalls(reply, use, tok.decode(ids, false));
                    calls++;
                }
            }
        }
        assertTrue(calls > 0 && texts > 0, calls + " answers called, " + texts + " answered in text");
    }

    @Test
    void badToolsAreRefusedNamingWhere() {
        assertEquals("tools[1].function.name: \"get_weather\" is defined twice", refusal("[" + WEATHER + ", " + WEATHER + "]"));
        assertTrue(refusal("[{\"type\": \"function\", \"function\": {\"name\": \"a b\"}}]").startsWith("tools[0].function.name: a function name must be"));
        String strictPattern = "[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"strict\": true, \"parameters\": {\"type\": \"object\", "
                + "\"properties\": {\"x\": {\"type\": \"string\", \"pattern\": \"^a\"}}}}}]";
        assertTrue(refusal(strictPattern).startsWith("tools[0].function.parameters: "), refusal(strictPattern));
        String loosePattern = strictPattern.replace("\"strict\": true", "\"strict\": false");
        ToolDefinition loose = ToolDefinition.fromOpenAi(json(loosePattern)).getFirst();
        assertEquals(json("{\"type\": \"object\"}"), loose.argumentsSchema(), "without strict, an unenforceable schema still gives an object");
        assertThrows(IllegalArgumentException.class, () -> ToolChoice.fromOpenAi(json("{\"type\": \"function\", \"function\": {\"name\": \"nope\"}}"), tools));
        assertEquals(new ToolChoice(ToolChoice.Mode.FUNCTION, "get_time"), ToolChoice.fromOpenAi(json("{\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}"), tools));
    }

    private static String refusal(String toolsJson) {
        return assertThrows(IllegalArgumentException.class, () -> ToolDefinition.fromOpenAi(json(toolsJson))).getMessage();
    }

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Every call names a callable tool, its arguments follow that tool's schema, and tool_choice / parallel hold. */
    private static void checkCalls(ToolReply reply, ToolUse use, String raw) {
        assertFalse(reply.calls().isEmpty(), "no calls in " + raw);
        if (!use.parallel()) assertEquals(1, reply.calls().size(), raw);
        for (ToolCall c : reply.calls()) {
            ToolDefinition t = use.tool(c.name());
            assertTrue(use.callable().contains(t), c.name() + " is not callable under " + use.choice());
            JsonNode arguments = json(c.arguments());
            assertTrue(SCHEMAS.getSchema(t.parameters()).validate(arguments).isEmpty(), c.arguments() + " against " + t.parameters());
        }
    }

    /**
     * Ids sampled under the processor: uniformly among allowed tokens, leaning towards tokens that close strings, objects
     * and lists (as a trained model would end what it opened); {@code forcedStart} are taken first as if the model chose
     * them. Null when no stop id came within {@code maxSteps}.
     */
    static int[] sample(LogitsProcessor p, Tokenizer tok, Random rnd, int maxSteps, List<Integer> stops, int[] forcedStart) {
        LogitsProcessor.State s = p.start();
        List<Integer> out = new ArrayList<>();
        float[] row = new float[tok.vocabSize()];
        for (int step = 0; step < maxSteps; step++) {
            Arrays.fill(row, 0f);
            s.process(row);
            int pick;
            if (forcedStart != null && step < forcedStart.length) {
                pick = forcedStart[step];
                assertTrue(row[pick] == 0f, "token " + pick + " was masked");
            } else {
                List<Integer> allowed = new ArrayList<>(), closing = new ArrayList<>();
                for (int i = 0; i < row.length; i++) {
                    if (row[i] == Float.NEGATIVE_INFINITY) continue;
                    allowed.add(i);
                    String t = tok.tokenString(i);
                    if (stops.contains(i) || (t != null && t.length() <= 2 && (t.contains("\"") || t.contains("}") || t.contains("]")))) closing.add(i);
                }
                assertFalse(allowed.isEmpty(), "the mask left nothing");
                List<Integer> from = !closing.isEmpty() && rnd.nextInt(3) == 0 ? closing : allowed;
                pick = from.get(rnd.nextInt(from.size()));
            }
            s.accept(pick);
            out.add(pick);
            if (stops.contains(pick)) return out.stream().mapToInt(Integer::intValue).toArray();
        }
        return null;
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
