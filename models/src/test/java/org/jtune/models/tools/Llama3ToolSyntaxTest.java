package org.jtune.models.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Llama 3.1's JSON calls on the real Llama 3 vocabulary (tiktoken, 128k): the built-in llama3 template shows the tools,
 * earlier calls (one turn per call) and ipython results; under the constraint a forced call is one valid call from the
 * first token, an answer that opens with '{' can only be a call, and any other answer is free text; what streams is
 * held back only when the first word opens the call.
 */
class Llama3ToolSyntaxTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final Path LLAMA3 = Path.of("../../shared/hf/llama-3-tiktoken");
    private static Tokenizer tok;
    private static List<ToolDefinition> tools;
    private static int eot;

    @BeforeAll
    static void load() throws Exception {
        tok = Tokenizer.load(LLAMA3);
        tools = ToolDefinition.fromOpenAi(JSON.readTree("[" + ToolSyntaxTest.WEATHER + ", " + ToolSyntaxTest.TIME + "]"));
        eot = tok.idOf("<|eot_id|>").getAsInt();
    }

    private static Map<String, Object> call(String id, String name, String arguments) {
        return new ToolCall(id, name, arguments).toOpenAi();
    }

    @Test
    void theBuiltinTemplateShowsToolsCallsAndResultsInLlama31Form() throws Exception {
        ChatTemplate template = ChatTemplate.named("llama3");
        assertSame(Llama3ToolSyntax.INSTANCE, ToolSyntax.of(template, tok));
        assertSame(JsonToolSyntax.INSTANCE, ToolSyntax.of(template, Tokenizer.load(Path.of("../../shared/hf/tinyllama-1.1b-chat-v1.0"))),
                "a vocabulary without <|eot_id|>");
        List<Message> conversation = List.of(Message.user("Weather and time in Paris?"),
                new Message("assistant", null, Map.of("tool_calls", List.of(call("c1", "get_weather", "{\"city\": \"Paris\", \"unit\": \"C\"}"),
                        call("c2", "get_time", "{\"zone\": \"CET\"}")))),
                new Message("tool", "22", Map.of("tool_call_id", "c1")), new Message("tool", "14:05", Map.of("tool_call_id", "c2")),
                Message.assistant("22 C at 14:05."), Message.user("And Lyon?"));
        ToolSyntax.Rendering r = Llama3ToolSyntax.INSTANCE.render(conversation, new ToolUse(tools.subList(1, 2), ToolChoice.AUTO, true));
        String header = "<|start_header_id|>%s<|end_header_id|>\n\n";
        String expected = "<|begin_of_text|>" + header.formatted("user")
                + "To call one of the functions below, answer with a JSON object alone: {\"name\": the function, \"parameters\": an object of its arguments}.\n\n"
                + "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"get_time\",\n        \"parameters\": {\n"
                + "            \"type\": \"object\",\n            \"properties\": {\n                \"zone\": {\n                    \"enum\": [\n"
                + "                        \"UTC\",\n                        \"CET\"\n                    ]\n                }\n            },\n"
                + "            \"required\": [\n                \"zone\"\n            ],\n            \"additionalProperties\": false\n        }\n    }\n}\n\n"
                + "Weather and time in Paris?<|eot_id|>"
                + header.formatted("assistant") + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"unit\": \"C\"}}<|eot_id|>"
                + header.formatted("assistant") + "{\"name\": \"get_time\", \"parameters\": {\"zone\": \"CET\"}}<|eot_id|>"
                + header.formatted("ipython") + "22<|eot_id|>" + header.formatted("ipython") + "14:05<|eot_id|>"
                + header.formatted("assistant") + "22 C at 14:05.<|eot_id|>" + header.formatted("user") + "And Lyon?<|eot_id|>" + header.formatted("assistant");
        assertEquals(expected, template.render(r.messages(), true, r.variables()));
        ToolSyntax.Rendering none = Llama3ToolSyntax.INSTANCE.render(conversation, new ToolUse(tools, ToolChoice.NONE, true));
        assertFalse(template.render(none.messages(), true, none.variables()).contains("To call one"), "tool_choice none shows no tools");
        assertNull(Llama3ToolSyntax.INSTANCE.constraint(new ToolUse(tools, ToolChoice.NONE, true), tok, List.of(eot)));
        List<Message> plain = List.of(Message.system("Be brief."), Message.user(" Hi "), Message.assistant("Hello."));
        assertEquals("<|begin_of_text|>" + header.formatted("system") + "Be brief.<|eot_id|>" + header.formatted("user") + "Hi<|eot_id|>"
                + header.formatted("assistant") + "Hello.<|eot_id|>", template.render(plain, false, Map.of()), "without tools: as before");
    }

    @Test
    void aForcedCallIsOneValidCallFromTheFirstToken() {
        Random rnd = new Random(21);
        for (ToolChoice choice : List.of(ToolChoice.REQUIRED, new ToolChoice(ToolChoice.Mode.FUNCTION, "get_weather"))) {
            ToolUse use = new ToolUse(tools, choice, true); // parallel or not, Llama 3.1 calls once per answer
            LogitsProcessor p = Llama3ToolSyntax.INSTANCE.constraint(use, tok, List.of(eot));
            int ended = 0;
            for (int run = 0; run < 8; run++) {
                int[] ids = ToolSyntaxTest.sample(p, tok, rnd, 200, List.of(eot), null);
                if (ids == null) continue;
                ended++;
                assertTrue(Llama3ToolSyntax.INSTANCE.opensCalls(ids, LeadingCallConstraint.firstWord(ids, ids.length, tok) + 1, tok), tok.decode(ids, false));
                ToolReply reply = Llama3ToolSyntax.INSTANCE.parse(ids, tok, use);
                checkOneCall(reply, use, tok.decode(ids, false));
                assertNull(reply.content());
            }
            assertTrue(ended >= 6, choice + ": only " + ended + " of 8 runs ended");
        }
    }

    @Test
    void inAutoModeABraceOpensACallAndAnythingElseIsText() {
        ToolUse use = new ToolUse(tools, ToolChoice.AUTO, true);
        LogitsProcessor p = Llama3ToolSyntax.INSTANCE.constraint(use, tok, List.of(eot));
        float[] row = new float[tok.vocabSize()];
        p.start().process(row);
        int brace = tok.encode("{\"", false)[0], emptyObject = tok.encode("{}", false)[0], word = tok.encode("Sure", false)[0];
        assertEquals(1, tok.encode("{}", false).length, "{} is one token");
        assertEquals(0f, row[brace], tok.tokenString(brace));
        assertEquals(Float.NEGATIVE_INFINITY, row[emptyObject], "{} cannot begin a call");
        assertEquals(0f, row[word]);

        Random rnd = new Random(4);
        int[] call = ToolSyntaxTest.sample(p, tok, rnd, 200, List.of(eot), tok.encode(" {\"", false));
        assertNotNull(call);
        checkOneCall(Llama3ToolSyntax.INSTANCE.parse(call, tok, use), use, tok.decode(call, false));
        int[] tagged = ToolSyntaxTest.sample(p, tok, rnd, 200, List.of(eot), new int[] {tok.idOf("<|python_tag|>").getAsInt()});
        assertNotNull(tagged);
        checkOneCall(Llama3ToolSyntax.INSTANCE.parse(tagged, tok, use), use, tok.decode(tagged, false));

        int[] text = ToolSyntaxTest.concat(tok.encode("Sure: {not a call} and {} too.", false), new int[] {eot});
        assertNotNull(ToolSyntaxTest.sample(p, tok, rnd, text.length, List.of(eot), text), "after a first word, text is free");
        assertEquals(ToolReply.text("Sure: {not a call} and {} too."), Llama3ToolSyntax.INSTANCE.parse(text, tok, use));
        for (int count = 1; count <= text.length; count++) assertFalse(Llama3ToolSyntax.INSTANCE.opensCalls(text, count, tok), "text streams");
    }

    @Test
    void whatIsNotACallOfAnOfferedToolIsText() {
        ToolUse use = new ToolUse(tools, ToolChoice.AUTO, true);
        for (String answer : List.of("{\"name\": \"get_time\", \"parameters\": {\"zone\":", "{\"name\": \"rm_rf\", \"parameters\": {}}", "{\"city\": \"Paris\"}")) {
            int[] ids = tok.encode(answer, false);
            assertEquals(ToolReply.text(answer), Llama3ToolSyntax.INSTANCE.parse(ids, tok, use), answer);
        }
        ToolReply arguments = Llama3ToolSyntax.INSTANCE.parse(tok.encode("{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}", false), tok, use);
        assertEquals("get_time", arguments.calls().getFirst().name(), "\"arguments\" as some fine-tunes write it");
        assertEquals("{\"zone\":\"UTC\"}", arguments.calls().getFirst().arguments());
    }

    private static void checkOneCall(ToolReply reply, ToolUse use, String raw) {
        assertEquals(1, reply.calls().size(), raw);
        ToolCall c = reply.calls().getFirst();
        ToolDefinition t = use.tool(c.name());
        assertTrue(use.callable().contains(t), c.name() + " is not callable under " + use.choice());
        try {
            JsonNode args = JSON.readTree(c.arguments());
            assertTrue(SCHEMAS.getSchema(t.parameters()).validate(args).isEmpty(), c.arguments() + " against " + t.parameters());
        } catch (Exception e) {
            throw new AssertionError(raw, e);
        }
        assertTrue(c.id().matches("call_[A-Za-z0-9]{24}"), c.id());
    }
}
