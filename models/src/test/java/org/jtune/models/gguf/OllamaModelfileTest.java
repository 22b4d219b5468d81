package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtune.models.chat.ChatTemplate;
import org.junit.jupiter.api.Test;

/**
 * The Modelfile's TEMPLATE for the built-in chat template families (their Jinja sources, as jtune ships them) and
 * its stop parameters; an unrecognised template gets no guessed TEMPLATE.
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
        assertTrue(OllamaModelfile.goTemplate(ChatTemplate.named("mistral").source()).contains("[INST] {{ .Content }} [/INST]"));
        assertTrue(OllamaModelfile.goTemplate(ChatTemplate.named("llama2").source()).contains("<<SYS>>"));

        assertNull(OllamaModelfile.goTemplate("{{ messages[0]['content'] }}"));
        String unknown = OllamaModelfile.text("m.gguf", "{{ messages[0]['content'] }}", "</s>");
        assertTrue(!unknown.contains("TEMPLATE") && unknown.contains("Ollama uses its default"), unknown);
        assertEquals("# Ollama Modelfile written by jtune export gguf: ollama create NAME -f Modelfile\nFROM ./m.gguf\n"
                + "# The model has no chat template; Ollama uses its default.\nPARAMETER stop \"a\\\"b\"\n", OllamaModelfile.text("m.gguf", null, "a\"b"));
    }
}
