package org.jtune.models.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The Ollama Modelfile written beside an exported GGUF file: {@code FROM ./file.gguf}, a {@code TEMPLATE} in
 * Ollama's Go template syntax when the model's Jinja chat template is one of the families whose layout is known
 * (ChatML, Llama 3 headers, Llama 2 / Mistral [INST], Phi-3 / Zephyr role tags; recognised by their markers), and
 * {@code PARAMETER stop} for the end-of-sequence token and the family's end-of-turn marker, and {@code SYSTEM} for
 * the system message the model was trained with (Ollama sends it when a request has none). It is named {@value
 * #PLAIN} unless one for another GGUF file is already in the folder ({@link #nameIn}). A template of another
 * shape is not guessed at: the Modelfile says so in a comment and Ollama uses its default. Ollama (like llama.cpp)
 * adds the BOS token itself, so the templates leave it out. Each TEMPLATE renders what the Jinja template renders
 * (with the generation prompt) for a system message and alternating user/assistant turns whose contents have no
 * surrounding white space (Go templates cannot trim, as Jinja's llama templates do); Ollama gathers the system
 * messages into .System and, in current versions, keeps them in .Messages too, so the turns skip role "system".
 */
public final class OllamaModelfile {
    /** The name Ollama's documentation and most users expect. */
    public static final String PLAIN = "Modelfile";

    private OllamaModelfile() {}

    /**
     * The name of the Modelfile for {@code ggufFileName} in {@code folder}: {@value #PLAIN} unless a Modelfile there is
     * for another file (its FROM names another), then the GGUF file's name with .Modelfile for .gguf ({@code
     * b15-q8.Modelfile}), so that a second export into a folder does not replace the first one's Modelfile.
     */
    public static String nameIn(Path folder, String ggufFileName) {
        Path plain = folder.resolve(PLAIN);
        if (!Files.exists(plain)) return PLAIN;
        String from = fromOf(plain);
        if (from != null && (from.equals("./" + ggufFileName) || from.equals(ggufFileName))) return PLAIN;
        String stem = ggufFileName.toLowerCase(Locale.ROOT).endsWith(".gguf") ? ggufFileName.substring(0, ggufFileName.length() - 5) : ggufFileName;
        return stem + "." + PLAIN;
    }

    /** The FROM of a Modelfile, or null when it has none or cannot be read. */
    public static String fromOf(Path modelfile) {
        try {
            for (String line : Files.readAllLines(modelfile)) {
                String t = line.strip();
                if (t.regionMatches(true, 0, "FROM ", 0, 5)) return t.substring(5).strip();
            }
        } catch (IOException | RuntimeException e) {
            // unreadable (a folder, not UTF-8): not this file's
        }
        return null;
    }

    /** The Go template for a Jinja chat template, or null when its family is not recognised. */
    public static String goTemplate(String jinja) {
        if (jinja == null) return null;
        String turns = "{{- range .Messages }}{{- if ne .Role \"system\" }}";   // system messages are .System's
        if (jinja.contains("<|im_start|>")) {
            return "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
                    + turns + "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}{{- end }}<|im_start|>assistant\n";
        }
        if (jinja.contains("<|start_header_id|>")) {
            return "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
                    + turns + "<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}{{- end }}"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        }
        if (jinja.contains("[INST]")) {
            // Llama 2: the system block opens the first user turn, each later exchange starts with <s> (the first <s> is
            // the BOS Ollama adds), answers are " content </s>". Mistral: the system text and a blank line open the
            // first user turn, answers are "content</s>". $first carries "no user turn yet" across the range.
            boolean llama2 = jinja.contains("<<SYS>>");
            String system = llama2 ? "<<SYS>>\n{{ $.System }}\n<</SYS>>\n\n" : "{{ $.System }}\n\n";
            return "{{- $first := true }}{{- range .Messages }}{{- if eq .Role \"user\" }}" + (llama2 ? "{{ if not $first }}<s>{{ end }}" : "")
                    + "[INST] {{ if and $first $.System }}" + system + "{{ end }}{{ .Content }} [/INST]{{ $first = false }}"
                    + "{{- else if eq .Role \"assistant\" }}" + (llama2 ? " {{ .Content }} </s>" : "{{ .Content }}</s>") + "{{ end }}{{- end }}";
        }
        if (jinja.contains("<|user|>") && jinja.contains("<|assistant|>")) {
            String end = jinja.contains("<|end|>") ? "<|end|>" : "</s>";
            return "{{- if .System }}<|system|>\n{{ .System }}" + end + "\n{{ end }}"
                    + turns + "<|{{ .Role }}|>\n{{ .Content }}" + end + "\n{{ end }}{{- end }}<|assistant|>\n";
        }
        return null;
    }

    /** Stop strings: the EOS token's text (when known) and the end-of-turn marker of the template's family. */
    static List<String> stops(String jinja, String eosText) {
        Set<String> s = new LinkedHashSet<>();
        if (eosText != null && !eosText.isEmpty()) s.add(eosText);
        if (jinja != null) {
            for (String marker : new String[] {"<|im_end|>", "<|eot_id|>", "<|end|>"}) if (jinja.contains(marker)) s.add(marker);
        }
        return new ArrayList<>(s);
    }

    /** The Modelfile text for {@code ggufFileName} (a name in the same folder), without a system message. */
    public static String text(String ggufFileName, String jinja, String eosText) {
        return text(ggufFileName, PLAIN, jinja, eosText, null);
    }

    /**
     * The text of Modelfile {@code modelfileName} for {@code ggufFileName} (names in the same folder), with {@code system}
     * (null or "": none) as its SYSTEM message.
     */
    public static String text(String ggufFileName, String modelfileName, String jinja, String eosText, String system) {
        StringBuilder sb = new StringBuilder("# Ollama Modelfile written by jtune export gguf: ollama create NAME -f " + modelfileName + "\n");
        sb.append("FROM ./").append(ggufFileName).append('\n');
        String go = goTemplate(jinja);
        if (go != null) {
            sb.append("TEMPLATE \"\"\"").append(go).append("\"\"\"\n");
        } else if (jinja != null) {
            sb.append("# The chat template is not a layout jtune can translate to Go template syntax; Ollama uses its default.\n");
        } else {
            sb.append("# The model has no chat template; Ollama uses its default.\n");
        }
        if (system != null && !system.isEmpty()) {
            if (system.contains("\"\"\"")) sb.append("# The trained system message holds \"\"\", which a Modelfile cannot quote; add it to requests.\n");
            else sb.append("SYSTEM \"\"\"").append(system).append("\"\"\"\n");
        }
        for (String stop : stops(jinja, eosText)) sb.append("PARAMETER stop \"").append(stop.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        return sb.toString();
    }
}
