package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.junit.jupiter.api.Test;

/**
 * The Modelfile's TEMPLATE for the built-in chat template families (their Jinja sources, as jtune ships them, and a
 * Phi-3-style one) renders, with Go template semantics ({@link GoTemplateSubset}) and Ollama's inputs, the same text
 * as the Jinja template for system + user (+ assistant) conversations; its stop parameters and SYSTEM line; an
 * unrecognised template gets no guessed TEMPLATE. Every value reads back exactly under Ollama's Modelfile reading rules
 * ({@link ModelfileReader}, checked against cases of Ollama's own parser tests), a system message with {@code """} inside included; one that no quoting carries
 * ({@code """} before a line break, characters the reader drops) is refused, naming where and --system-message.
 */
class OllamaModelfileTest {
    @Test
    void knownFamiliesTranslateAndUnknownOnesAreNotGuessed() throws Exception {
        String chatml = OllamaModelfile.text("m.gguf", ChatTemplate.named("chatml").source(), "<|endoftext|>");
        assertTrue(chatml.startsWith("# Ollama Modelfile"), chatml);
        assertTrue(chatml.contains("FROM ./m.gguf\n"), chatml);
        assertTrue(chatml.contains("TEMPLATE \"\"\"{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>"), chatml);
        assertTrue(chatml.contains("PARAMETER stop \"<|endoftext|>\"\nPARAMETER stop \"<|im_end|>\"\n"), chatml);

        String llama3 = OllamaModelfile.goTemplate(ChatTemplate.named("llama3").source());
        assertTrue(llama3.contains("<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"), llama3);
        assertTrue(OllamaModelfile.goTemplate(ChatTemplate.named("llama2").source()).contains("<<SYS>>"));

        assertNull(OllamaModelfile.goTemplate("{{ messages[0]['content'] }}"));
        String unknown = OllamaModelfile.text("m.gguf", "{{ messages[0]['content'] }}", "</s>");
        assertTrue(!unknown.contains("TEMPLATE") && unknown.contains("Ollama uses its default"), unknown);
        assertEquals("# Ollama Modelfile written by jtune export gguf: ollama create NAME -f Modelfile\nFROM ./m.gguf\n"
                + "# The model has no chat template; Ollama uses its default.\nPARAMETER stop \"a\"b\"\n", OllamaModelfile.text("m.gguf", null, "a\"b"));
    }

    @Test
    void everyValueReadsBackInOllamaAsWritten() throws Exception {
        String chatml = ChatTemplate.named("chatml").source();
        for (String system : List.of("Be brief.\nOne word.", "say \"\"\"x\"\"\" to me", "\"\"\"opens with quotes", "ends with quotes\"\"\"",
                "She said \"hi\"\nand \"\"\" then\nmore \"", "  spaces around  \n", "tabs\tand CRLF\r\nlines", "naïve café – 東京 🙂", "\"", "\"\"")) {
            String text = OllamaModelfile.text("m.gguf", "Modelfile", chatml, "</s>", system);
            assertEquals(List.of(system), ModelfileReader.args(text, "system"), text);
            assertEquals(List.of("./m.gguf"), ModelfileReader.args(text, "from"));
            assertEquals(List.of(OllamaModelfile.goTemplate(chatml)), ModelfileReader.args(text, "template"));
            assertEquals(List.of("</s>", "<|im_end|>"), ModelfileReader.args(text, "stop"));
        }
        for (String name : ChatTemplate.builtinNames()) {
            String source = ChatTemplate.named(name).source();
            assertEquals(List.of(OllamaModelfile.goTemplate(source)), ModelfileReader.args(OllamaModelfile.text("m.gguf", source, null), "template"), name);
        }
        for (String eos : List.of("</s>", "a\"b", "\"x", "\"\"y", "back\\slash", "two\nlines\"")) {
            assertEquals(List.of(eos), ModelfileReader.args(OllamaModelfile.text("m.gguf", null, eos), "stop"), eos);
        }
    }

    /** The reader against cases of Ollama's own parser tests (parser_test.go): input and the argument Ollama reads. */
    @Test
    void theReaderReadsWhatOllamaReads() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("SYSTEM \"\"\"\nThis is a\nmultiline system.\n\"\"\"\n", "\nThis is a\nmultiline system.\n");
        cases.put("SYSTEM \"\"\"This is a\nmultiline system.\"\"\"\n", "This is a\nmultiline system.");
        cases.put("SYSTEM \"\"\"\nThis is a multiline system with \"quotes\".\n\"\"\"\n", "\nThis is a multiline system with \"quotes\".\n");
        cases.put("SYSTEM \"\"\"''\"'\"\"'\"\"'\"'''''\"\"'\"\"'\"\"\"\n", "''\"'\"\"'\"\"'\"'''''\"\"'\"\"'");
        cases.put("SYSTEM \"\"\"\"\"\"\n", "");
        cases.put("SYSTEM \"\"\n", "");
        cases.put("SYSTEM \"'\"\n", "'");
        cases.put("TEMPLATE \"\"\"   {{ .Prompt }}   \"\"\"    \n", "   {{ .Prompt }}   ");
        for (var c : cases.entrySet()) {
            String name = c.getKey().substring(0, c.getKey().indexOf(' ')).toLowerCase(java.util.Locale.ROOT);
            assertEquals(List.of(c.getValue()), ModelfileReader.args("FROM foo\n" + c.getKey(), name), c.getKey());
        }
        assertEquals(List.of("### User:"), ModelfileReader.args("FROM foo\nPARAMETER stop ### User: \n", "stop"));
        assertEquals(List.of("### User: "), ModelfileReader.args("FROM foo\nPARAMETER stop \"### User: \"\n", "stop"));
        assertEquals(List.of("### User:\n"), ModelfileReader.args("FROM foo\nPARAMETER stop \"\"\"### User:\n\"\"\"\n", "stop"));
        assertEquals(List.of("FOO  BAR  "), ModelfileReader.args("# comment\nFROM \"FOO  BAR  \"", "from"));
        assertThrows(IllegalArgumentException.class, () -> ModelfileReader.read("FROM foo\nSYSTEM \"\"\"This is a multiline system.\"\"\n"));
        assertThrows(IllegalArgumentException.class, () -> ModelfileReader.read("FROM foo\nSYSTEM \"\n"));
    }

    @Test
    void aSystemMessageNoQuotingCarriesIsRefused() throws Exception {
        String chatml = ChatTemplate.named("chatml").source();
        Map<String, String> refused = new LinkedHashMap<>();   // system message → what the refusal must name
        refused.put("Quote it like this: \"\"\"\nthen go on.", "at the end of line 1");
        refused.put("a\nb \"\"\"  \r\nc", "at the end of line 2");
        refused.put("no\u00A0break", "U+00A0 NO-BREAK SPACE");
        refused.put("family \uD83D\uDC68\u200D\uD83D\uDC69", "U+200D ZERO WIDTH JOINER");
        refused.put("one\ntwo\u0007", "U+0007 BEL (line 2)");
        for (var e : refused.entrySet()) {
            String system = e.getKey();
            JtuneException x = assertThrows(JtuneException.class, () -> OllamaModelfile.text("m.gguf", "Modelfile", chatml, null, system));
            assertTrue(x.getMessage().contains(e.getValue()) && x.getMessage().contains("--system-message") && x.getMessage().lines().count() == 1,
                    x.getMessage());
            // a limit of Ollama's reader, not of the writer: neither quoting gives the message back
            for (String q : new String[] {"\"\"\"", "\""}) {
                String written = "FROM ./m.gguf\nSYSTEM " + q + system + q + "\n";
                List<String> back;
                try {
                    back = ModelfileReader.args(written, "system");
                } catch (IllegalArgumentException unreadable) {
                    continue;
                }
                assertNotEquals(List.of(system), back, written);
            }
        }
    }

    /** Phi-3 mini's layout: every role tagged, each turn ended by <|end|>. */
    private static final String PHI3 = "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '<|end|>\\n' }}"
            + "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|end|>\\n' }}"
            + "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";

    private static final List<List<Message>> CONVERSATIONS = List.of(
            List.of(Message.system("You route tickets."), Message.user("My laptop will not boot.")),
            List.of(Message.user("Hello there")),
            List.of(Message.system("Be brief.\nOne word."), Message.user("Colour of the sky?"), Message.assistant("Blue."),
                    Message.user("And grass?")),
            List.of(Message.system("You route tickets."), Message.user("VPN drops."), Message.assistant("network")),
            List.of(Message.user("a"), Message.assistant("b"), Message.user("c"), Message.assistant("d")));

    @Test
    void goTemplatesRenderWhatTheJinjaTemplatesRender() throws Exception {
        List<ChatTemplate> templates = new ArrayList<>();
        for (String name : ChatTemplate.builtinNames()) templates.add(ChatTemplate.named(name));
        templates.add(ChatTemplate.of(PHI3, "phi3", Map.of("eos_token", "<|endoftext|>")));
        for (ChatTemplate t : templates) {
            String go = OllamaModelfile.goTemplate(t.source());
            for (List<Message> conversation : CONVERSATIONS) {
                String jinja = t.render(conversation, true, Map.of());
                String bos = t.specialTokens().get("bos_token");
                if (bos != null && jinja.startsWith(bos)) jinja = jinja.substring(bos.length());   // Ollama adds the BOS token itself
                for (boolean systemInMessages : new boolean[] {true, false}) {
                    String ollama = GoTemplateSubset.render(go, ollamaValues(conversation, systemInMessages));
                    assertEquals(jinja, ollama, t.origin() + ", " + conversation + (systemInMessages ? "" : " (older Ollama)"));
                }
            }
        }
    }

    /** What Ollama gives a TEMPLATE: .System (the system messages joined), .Messages (with them in current versions). */
    private static Map<String, Object> ollamaValues(List<Message> conversation, boolean systemInMessages) {
        List<String> system = new ArrayList<>();
        List<Object> messages = new ArrayList<>();
        for (Message m : conversation) {
            if (m.role().equals("system")) system.add(m.content());
            if (!m.role().equals("system") || systemInMessages) messages.add(Map.of("Role", m.role(), "Content", m.content()));
        }
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("System", String.join("\n\n", system));
        v.put("Messages", messages);
        return v;
    }

    @Test
    void theTrainedSystemMessageIsTheSystemLine() throws Exception {
        String chatml = ChatTemplate.named("chatml").source();
        assertTrue(OllamaModelfile.text("m.gguf", "Modelfile", chatml, null, "Be brief.\nOne word.").contains("SYSTEM \"\"\"Be brief.\nOne word.\"\"\"\n"));
        assertTrue(!OllamaModelfile.text("m.gguf", "Modelfile", chatml, null, "").contains("SYSTEM"));
        assertTrue(OllamaModelfile.text("m.gguf", "Modelfile", chatml, null, "say \"\"\"x\"\"\"").contains("SYSTEM \"\"\"say \"\"\"x\"\"\"\"\"\"\n"));
    }

    @Test
    void aModelfileForAnotherFileIsNotReplaced(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assertEquals("Modelfile", OllamaModelfile.nameIn(dir, "b15-f32.gguf"));
        java.nio.file.Files.writeString(dir.resolve("Modelfile"), OllamaModelfile.text("b15-f32.gguf", null, null));
        assertEquals("Modelfile", OllamaModelfile.nameIn(dir, "b15-f32.gguf"), "the same file's export rewrites it");
        assertEquals("b15-q8.Modelfile", OllamaModelfile.nameIn(dir, "b15-q8.gguf"));
        assertEquals("./b15-f32.gguf", OllamaModelfile.fromOf(dir.resolve("Modelfile")));
        assertTrue(OllamaModelfile.text("b15-q8.gguf", "b15-q8.Modelfile", null, null, null).contains("-f b15-q8.Modelfile\nFROM ./b15-q8.gguf\n"));
    }
}
