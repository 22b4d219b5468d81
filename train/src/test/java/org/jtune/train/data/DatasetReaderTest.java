package org.jtune.train.data;

import org.jtune.models.chat.Message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and validating JSONL files: every error kind, named with its line, and every format. */
class DatasetReaderTest {
    @TempDir
    Path dir;

    private static final String OK = """
            {"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""";

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    private Path writeBytes(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    /** "line:kind" for every stored issue, in order. */
    private static List<String> lineKinds(IssueLog log) {
        List<String> out = new ArrayList<>();
        for (Issue i : log.errors()) out.add(i.line() + ":" + i.kind().code());
        for (Issue i : log.warnings()) out.add(i.line() + ":" + i.kind().code());
        return out;
    }

    @Test
    void everyChatErrorKindIsReportedWithItsLine() throws Exception {
        String file = String.join("\n",
                OK,                                                                                    // 1 ok
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}",                              // 2 bad JSON (unclosed)
                "[1,2,3]",                                                                             // 3 not an object
                "{\"messages\":[{\"role\":\"function\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}", // 4 unknown role
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"assistant\",\"content\":\"b\"}]}", // 5 system not first
                "{\"messages\":[{\"role\":\"user\",\"content\":\"\"},{\"role\":\"assistant\",\"content\":\"b\"}]}", // 6 empty content
                "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"a\"}]}", // 7 no assistant turn
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]},{\"role\":\"assistant\",\"content\":\"b\"}]}", // 8 non-string content
                "{\"messages\":[{\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}",  // 9 missing role
                "",                                                                                    // 10 blank line
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"assistant\",\"content\":\"c\"}]}", // 11 two users
                "{\"messages\":\"hello\"}",                                                            // 12 wrong type
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}],\"messages\":[]}", // 13 duplicate key
                "{\"messages\":[{\"role\":\"assistant\",\"content\":\"b\"}]}",                      // 14 assistant first
                "{\"prompt\":\"p\",\"completion\":\"c\"}",                                             // 15 other format
                "{\"foo\":1}",                                                                         // 16 no chat fields
                OK + " {}",                                                                            // 17 trailing garbage
                OK) + "\n";                                                                            // 18 ok
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("broken.jsonl", file), log);

        assertEquals(DatasetFormat.CHAT, data.format());
        assertEquals(1, data.formatDetectedAtLine());
        assertEquals(18, data.lines());
        assertEquals(List.of(1L, 18L), data.examples().stream().map(c -> c.source().line()).toList());
        assertEquals(List.of(
                "2:bad_json", "3:not_an_object", "4:unknown_role", "5:role_order", "6:empty_content",
                "7:no_assistant_turn", "8:non_string_content", "9:missing_field", "11:role_order",
                "12:wrong_type", "13:bad_json", "14:role_order", "15:format_mismatch", "16:missing_field",
                "17:bad_json", "10:blank_line"), lineKinds(log));
        assertEquals(15, log.errorCount());
        assertEquals(1, log.warningCount());
        // messages say what is wrong and where
        Issue role = log.errors().get(2);
        assertEquals(dir.resolve("broken.jsonl") + ":4: error: messages[0] has unknown role \"function\"; expected system,"
                + " user, assistant or tool", role.toString());
        assertTrue(log.errors().get(3).message().contains("messages[1] is system: a system message may only come first"),
                log.errors().get(3).message());
        assertTrue(log.errors().get(10).message().contains("Duplicate field 'messages'"), log.errors().get(10).message());
        assertTrue(log.errors().get(12).message().contains("line is in completion"), log.errors().get(12).message());
    }

    @Test
    void allProblemsOfOneLineAreReported() throws Exception {
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\" \"},{\"role\":\"assistant\",\"content\":7},"
                + "{\"role\":\"robot\",\"content\":\"x\"}]}\n";
        IssueLog log = new IssueLog();
        DatasetReader.detecting().read(write("multi.jsonl", line), log);
        assertEquals(List.of("1:empty_content", "1:non_string_content", "1:unknown_role", "0:no_examples"), lineKinds(log));
        assertTrue(log.errors().getFirst().message().contains("\"messages[0].content\" is only whitespace"));
    }

    @Test
    void toolUseAndThoughtsAreKept() throws Exception {
        String calls = "[{\"id\": \"c1\", \"type\": \"function\", \"function\": {\"name\": \"weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}}]";
        String tools = "[{\"type\": \"function\", \"function\": {\"name\": \"weather\", \"parameters\": {\"type\": \"object\"}}}]";
        String file = String.join("\n",
                "{\"tools\": " + tools + ", \"messages\": [{\"role\": \"user\", \"content\": \"Paris?\"}, {\"role\": \"assistant\", \"content\": null, "
                        + "\"tool_calls\": " + calls + ", \"reasoning_content\": \"need the tool\"}, {\"role\": \"tool\", \"tool_call_id\": \"c1\", "
                        + "\"content\": \"18C\"}, {\"role\": \"assistant\", \"content\": \"18 degrees.\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"tool\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"tool_calls\": " + calls + "}, {\"role\": \"user\", \"content\": \"b\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"tool_calls\": [{\"function\": {\"arguments\": 1}}]}]}",
                "{\"tools\": [{\"type\": \"function\"}], \"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}") + "\n";
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("tools.jsonl", file), log);
        assertEquals(List.of("2:role_order", "3:role_order", "4:wrong_type", "5:wrong_type"), lineKinds(log), log.errors().toString());
        assertTrue(log.errors().get(0).message().contains("a tool message must follow an assistant message with tool_calls"));
        assertTrue(log.errors().get(1).message().contains("the assistant's tool calls are not answered by tool messages"));
        Conversation c = data.examples().getFirst();
        assertEquals(List.of("weather"), c.tools().stream().map(org.jtune.models.tools.ToolDefinition::name).toList());
        assertEquals("", c.messages().get(1).content(), "a call without content: empty content");
        assertEquals("need the tool", c.messages().get(1).fields().get("reasoning_content"));
        assertTrue(c.messages().get(1).fields().containsKey("tool_calls"));
        assertEquals("c1", c.messages().get(2).fields().get("tool_call_id"));
        assertEquals(Role.TOOL, Role.of(c.messages().get(2)));
    }

    @Test
    void trailingUserTurnIsOnlyAWarning() throws Exception {
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
                + "{\"role\":\"user\",\"content\":\"c\"}]}";
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("trailing.jsonl", line), log);
        assertEquals(1, data.examples().size());
        assertEquals(List.of("1:trailing_user_turn"), lineKinds(log));
        assertEquals("b", data.examples().getFirst().finalAnswer().orElseThrow());
    }

    @Test
    void byteLevelDefects() throws Exception {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] ok = OK.getBytes(StandardCharsets.UTF_8);
        var bytes = new java.io.ByteArrayOutputStream();
        bytes.write(bom);                                  // line 1: BOM at start, then a valid line (CRLF ending)
        bytes.write(ok);
        bytes.write("\r\n".getBytes(StandardCharsets.UTF_8));
        bytes.write(bom);                                  // line 2: BOM inside the file
        bytes.write(ok);
        bytes.write('\n');
        bytes.write("{\"text\":\"caf".getBytes(StandardCharsets.UTF_8));   // line 3: Latin-1 byte, not UTF-8
        bytes.write(0xE9);
        bytes.write("\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.write(("{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(300)
                + "\"},{\"role\":\"assistant\",\"content\":\"y\"}]}\n").getBytes(StandardCharsets.UTF_8)); // line 4: too long
        bytes.write(ok);                                   // line 5: valid, no final newline
        IssueLog log = new IssueLog();
        LoadedDataset data = new DatasetReader(null, 200).read(writeBytes("bytes.jsonl", bytes.toByteArray()), log);
        assertEquals(5, data.lines());
        assertEquals(List.of(1L, 5L), data.examples().stream().map(c -> c.source().line()).toList());
        assertEquals(List.of("2:bom_inside_file", "3:invalid_utf8", "4:line_too_long", "1:bom_at_start"), lineKinds(log));
        assertTrue(log.errors().get(1).message().startsWith("byte 13 of the line"), log.errors().get(1).message());
        assertTrue(log.errors().get(2).message().startsWith("line is 378 bytes, over the limit of 200"),
                log.errors().get(2).message());
    }

    @Test
    void emptyFileAndMissingFile() throws Exception {
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("empty.jsonl", ""), log);
        assertEquals(0, data.lines());
        assertEquals(List.of("0:no_examples"), lineKinds(log));
        assertTrue(log.errors().getFirst().message().contains("empty"));

        JtuneException e = assertThrows(JtuneException.class,
                () -> DatasetReader.detecting().read(dir.resolve("nope.jsonl"), new IssueLog()));
        assertTrue(e.getMessage().contains("nope.jsonl: no such file"), e.getMessage());
    }

    @Test
    void unknownFormatUntilALineRevealsIt() throws Exception {
        String file = "{\"question\":\"q\",\"answer\":\"a\"}\n" + OK + "\n";
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("unknown.jsonl", file), log);
        assertEquals(DatasetFormat.CHAT, data.format());
        assertEquals(2, data.formatDetectedAtLine());
        assertEquals(List.of("1:unknown_format"), lineKinds(log));
        assertTrue(log.errors().getFirst().message().contains("[question, answer] match no dataset format"));
    }

    @Test
    void explicitFormatRejectsOtherFormats() throws Exception {
        String file = OK + "\n{\"text\":\"plain\"}\n";
        IssueLog log = new IssueLog();
        LoadedDataset data = new DatasetReader(DatasetFormat.TEXT, 1 << 20).read(write("explicit.jsonl", file), log);
        assertEquals(List.of("1:format_mismatch"), lineKinds(log));
        assertTrue(log.errors().getFirst().message().contains("set explicitly"));
        assertEquals(0, data.formatDetectedAtLine());
        assertEquals(1, data.examples().size());
    }

    @Test
    void alpacaIsNormalisedToChat() throws Exception {
        String file = """
                {"instruction":"Translate to French","input":"cat","output":"chat"}
                {"instruction":"Say hi","input":"","output":"hi","system":"Be brief."}
                {"instruction":"No output"}
                {"instruction":"x","input":5,"output":"y"}
                """;
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("alpaca.jsonl", file), log);
        assertEquals(DatasetFormat.ALPACA, data.format());
        assertEquals(List.of("3:missing_field", "4:non_string_content"), lineKinds(log));
        assertEquals(List.of(Message.user("Translate to French\n\ncat"), Message.assistant("chat")),
                data.examples().get(0).messages());
        assertEquals(List.of(Message.system("Be brief."), Message.user("Say hi"), Message.assistant("hi")),
                data.examples().get(1).messages());
        assertFalse(data.examples().getFirst().isCompletion());
    }

    @Test
    void shareGptRolesAreMapped() throws Exception {
        String file = """
                {"conversations":[{"from":"system","value":"s"},{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}
                {"conversations":[{"from":"human","value":"q"},{"from":"bot","value":"a"}]}
                {"conversations":[{"from":"gpt","value":"a"},{"from":"human","value":"q"}]}
                """;
        IssueLog log = new IssueLog();
        LoadedDataset data = DatasetReader.detecting().read(write("sharegpt.jsonl", file), log);
        assertEquals(DatasetFormat.SHAREGPT, data.format());
        assertEquals(List.of(Message.system("s"), Message.user("q"), Message.assistant("a")),
                data.examples().getFirst().messages());
        assertEquals(List.of("2:unknown_role", "3:role_order"), lineKinds(log));
        assertTrue(log.errors().getFirst().message().contains("conversations[1] has unknown from \"bot\"; expected system, human or gpt"));
    }

    @Test
    void chatRoleNamedLikeShareGptGetsAHint() throws Exception {
        IssueLog log = new IssueLog();
        DatasetReader.detecting().read(write("hint.jsonl",
                "{\"messages\":[{\"role\":\"human\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}"), log);
        assertTrue(log.errors().getFirst().message().contains("(\"human\" is ShareGPT's name; use user)"));
    }

    @Test
    void completionAndTextStayCompletionData() throws Exception {
        IssueLog log = new IssueLog();
        LoadedDataset completion = DatasetReader.detecting().read(write("completion.jsonl", """
                {"prompt":"2+2=","completion":"4"}
                {"prompt":"","completion":"free text"}
                {"prompt":"x","completion":""}
                """), log);
        assertEquals(DatasetFormat.COMPLETION, completion.format());
        assertTrue(completion.examples().getFirst().isCompletion());
        assertEquals(List.of(Message.user("2+2="), Message.assistant("4")), completion.examples().get(0).messages());
        assertEquals(List.of(Message.assistant("free text")), completion.examples().get(1).messages());
        assertEquals(List.of("3:empty_content"), lineKinds(log));

        IssueLog textLog = new IssueLog();
        LoadedDataset text = DatasetReader.detecting().read(write("text.jsonl", "{\"text\":\"Once upon a time\"}\n{\"text\":null}\n"), textLog);
        assertEquals(DatasetFormat.TEXT, text.format());
        assertTrue(text.examples().getFirst().isCompletion());
        assertEquals(List.of("2:non_string_content"), lineKinds(textLog));
    }

    @Test
    void storageCapBoundsMemoryButCountsEverything() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 500; i++) sb.append("not json\n");
        IssueLog log = new IssueLog(10);
        DatasetReader.detecting().read(write("garbage.jsonl", sb.toString()), log);
        assertEquals(501, log.errorCount());          // 500 bad lines + "no usable example"
        assertEquals(500, log.count(IssueKind.BAD_JSON));
        assertEquals(10, log.errors().size());
        assertEquals(10, log.errors().get(9).line());
    }
}
