package org.jtune.train.prep;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetReader;
import org.jtune.train.data.IssueLog;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/** Loss masks cover exactly the assistant's answer and the tokens that end its turn; batches shift targets. */
class ChatEncoderTest {
    @Test
    void banking15WithLlama2TemplateTrainsTheLabelAndEos() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path data = SharedData.require("data/banking15/validation.jsonl");
        Tokenizer tok = Tokenizer.load(model);
        ChatTemplate template = ChatTemplate.forModel(model, "llama2");
        ChatEncoder enc = new ChatEncoder(template, tok, "Classify the intent.", false);
        List<Conversation> conv = DatasetReader.detecting().read(data, new IssueLog()).examples();
        List<TokenizedExample> examples = new ArrayList<>();
        for (Conversation c : conv.subList(0, 20)) {
            TokenizedExample e = enc.encode(c);
            examples.add(e);
            List<Integer> trained = new ArrayList<>();
            for (int i = 0; i < e.length(); i++) if (e.trained()[i]) trained.add(e.ids()[i]);
            String answer = tok.decode(trained.stream().mapToInt(Integer::intValue).toArray(), false);
            assertEquals(" " + c.finalAnswer().orElseThrow() + " </s>", answer.startsWith(" ") ? answer : " " + answer,
                    "trained tokens of " + e.source());
            assertEquals(2, e.ids()[e.length() - 1], "the last token is EOS");
            assertEquals(1, e.ids()[0], "the template writes BOS");
            int[] prompt = enc.promptIds(c);
            assertArrayEquals(java.util.Arrays.copyOf(e.ids(), prompt.length), prompt, "the generation prompt is a prefix");
            assertFalse(e.trained()[prompt.length - 1]);
            assertTrue(e.trained()[prompt.length]);
        }
        Batch padded = Batcher.padded(examples, 8, 0).getFirst();
        int expected = 0;
        for (TokenizedExample e : examples.subList(0, 8)) expected += e.trainedTokens();
        assertEquals(expected, padded.trainedTokens());
        Batch packed = Batcher.packed(examples, 2, 512, 0).getFirst();
        assertEquals(512, packed.length());
        int[] pos = packed.positions().toIntArray(), seg = packed.segments().toIntArray(), tgt = packed.targets().toIntArray();
        for (int i = 1; i < 512; i++) {
            if (seg[i] != seg[i - 1] && seg[i] >= 0) {
                assertEquals(0, pos[i], "positions restart at each packed example");
                assertEquals(Batch.IGNORE, tgt[i - 1], "an example's last token does not predict the next example");
            }
        }
    }

    @Test
    void aMessageWeightDecidesWhetherItsTokensAreTrained(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Tokenizer tok = Tokenizer.load(model);
        ChatEncoder enc = new ChatEncoder(ChatTemplate.forModel(model, "llama2"), tok, null, false);
        Path data = java.nio.file.Files.writeString(tmp.resolve("d.jsonl"), """
                {"messages": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "first", "weight": 0}, {"role": "user", "content": "two", "weight": 1}, {"role": "assistant", "content": "second"}]}
                {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]}
                """);
        IssueLog log = new IssueLog();
        List<Conversation> conv = DatasetReader.detecting().read(data, log).examples();
        assertEquals(1, log.errorCount(), "weight 2 is an error");
        assertTrue(log.errors().getFirst().toString().contains("weight must be 0 (not trained) or 1 (trained)"), log.errors().toString());
        TokenizedExample e = enc.encode(conv.getFirst());
        StringBuilder trained = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < e.length(); i++) if (e.trained()[i]) ids.add(e.ids()[i]);
        trained.append(tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), false));
        assertFalse(trained.toString().contains("first"), "weight 0: the first answer is not trained: " + trained);
        assertTrue(trained.toString().contains("two"), "weight 1: the user turn is trained: " + trained);
        assertTrue(trained.toString().contains("second"), "no weight: the answer is trained: " + trained);
        assertFalse(trained.toString().contains("one"), "no weight: the user turn is not: " + trained);
    }

    /** The trained tokens of an encoded example, decoded. */
    private static String trainedText(TokenizedExample e, Tokenizer tok) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < e.length(); i++) if (e.trained()[i]) ids.add(e.ids()[i]);
        return tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), false);
    }

    @Test
    void toolCallsAreWrittenAsTheServerWritesThemAndTrained(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Tokenizer tok = Tokenizer.load(model);
        ChatTemplate chatml = ChatTemplate.forModel(model, "chatml");
        ChatEncoder enc = new ChatEncoder(chatml, tok, null, false);
        Path data = java.nio.file.Files.writeString(tmp.resolve("tools.jsonl"), """
                {"tools": [{"type": "function", "function": {"name": "weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}], "messages": [{"role": "user", "content": "Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "18C"}, {"role": "assistant", "content": "It is 18C."}]}
                """);
        IssueLog log = new IssueLog();
        Conversation c = DatasetReader.detecting().read(data, log).examples().getFirst();
        assertEquals(0, log.errorCount(), log.errors().toString());
        var rendering = enc.rendering(c);
        String text = chatml.render(rendering.messages(), false, rendering.variables());
        assertTrue(text.contains("weather") && text.contains("Weather of a city"), "the tools are shown to the model: " + text);
        String trained = trainedText(enc.encode(c), tok);
        assertTrue(trained.contains("\"tool_calls\"") && trained.contains("Paris"), "the call is trained: " + trained);
        assertTrue(trained.contains("It is 18C."), "the answer after the result is trained: " + trained);
        assertFalse(trained.contains("tool_results"), "the tool's result is input, not trained: " + trained);
        // the same rendering the server gives a request with these messages and tools
        var serving = org.jtune.models.tools.ToolSyntax.of(chatml, tok).render(enc.messages(c),
                new org.jtune.models.tools.ToolUse(c.tools(), org.jtune.models.tools.ToolChoice.AUTO, true));
        assertEquals(text, chatml.render(serving.messages(), false, serving.variables()));
    }

    @Test
    void aThoughtReachesTheTemplateAndIsTrained(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Tokenizer tok = Tokenizer.load(model);
        // a thinking model's template (Qwen3-like): the answer's thought written before it
        ChatTemplate thinking = ChatTemplate.of("{% for m in messages %}<|{{ m.role }}|>{% if m.reasoning_content is defined %}<think>{{ m.reasoning_content }}</think>"
                + "{% endif %}{{ m.content }}</s>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}", "thinking", java.util.Map.of());
        Path data = java.nio.file.Files.writeString(tmp.resolve("think.jsonl"), """
                {"messages": [{"role": "user", "content": "two plus two"}, {"role": "assistant", "content": "four", "reasoning_content": "add them up"}]}
                """);
        Conversation c = DatasetReader.detecting().read(data, new IssueLog()).examples().getFirst();
        String trained = trainedText(new ChatEncoder(thinking, tok, null, false).encode(c), tok);
        assertTrue(trained.contains("add them up") && trained.contains("four"), "the thought and the answer are trained: " + trained);
    }
}
