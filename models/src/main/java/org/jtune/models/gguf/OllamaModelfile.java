package org.jtune.models.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jtune.JtuneException;

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
 *
 * <p>Quoting, as Ollama's Modelfile reader (parser/parser.go) takes it: a value in {@code """..."""} (or
 * {@code "..."}) is everything between the quotes, with no escapes; it ends at the first line break before which
 * (trailing spaces aside) the value so far ends with the closing quotes, so a {@code """} inside a value is kept
 * unless a line break follows it. The reader also drops characters that Go does not count as printable (control
 * characters other than tab and line breaks, no-break and other non-ASCII spaces, zero-width joiners, ...). A
 * system message that no quoting gives back exactly is refused ({@link #checkSystem}); it is not mangled.
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
        return render(ggufFileName, PLAIN, jinja, eosText, null);
    }

    /**
     * Refuses a system message (null or "": none) that the Modelfile's SYSTEM line cannot carry: one that Ollama's
     * reader would cut short or change, whichever quoting is used. The message names what and where, and the way out.
     */
    public static void checkSystem(String system) throws JtuneException {
        if (system == null || system.isEmpty()) return;
        String why = whyNotQuotable(system);
        if (why != null) {
            throw new JtuneException("the system message " + why + ", and no Modelfile quoting gives it back to Ollama as it is: "
                    + "export with --system-message TEXT (another one, or \"\" for none and send it in requests)");
        }
    }

    /**
     * Why {@code """value"""} does not read back as {@code value} in Ollama, or null when it does: a character the
     * reader drops, or {@code """} (then only spaces or tabs) before a line break, where the reader ends the value.
     * Plain {@code "value"} fails in the same places and more, and an unquoted value cannot hold a line break.
     */
    static String whyNotQuotable(String value) {
        int line = 1;
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            if (cp == '\n' || cp == '\r') {
                int end = i;
                while (end > 0 && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) end--;
                if (value.startsWith("\"\"\"", end - 3)) return "has \"\"\" at the end of line " + line + ", where Ollama's Modelfile reader ends a quoted value";
                if (cp == '\n' || i + 1 == value.length() || value.charAt(i + 1) != '\n') line++;
            } else if (cp != '\t' && !goPrintable(cp)) {
                String name = Character.getName(cp);
                return String.format("holds U+%04X%s (line %d), which Ollama's Modelfile reader drops", cp, name == null ? "" : " " + name, line);
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /** Go's unicode.IsPrint, by which Ollama's reader keeps a character: letters, marks, numbers, punctuation, symbols, ASCII space. */
    private static boolean goPrintable(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER, Character.MODIFIER_LETTER,
                 Character.OTHER_LETTER, Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION,
                 Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL,
                 Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
            default -> false;
        };
    }

    /** {@code value} as {@code """value"""}, for a value {@link #whyNotQuotable} passed. */
    private static String tripleQuoted(String value) {
        return "\"\"\"" + value + "\"\"\"";
    }

    /**
     * A PARAMETER value as {@code "value"} when Ollama reads that back (one line, not opening with {@code ""}, which
     * would read as {@code """}), else as {@code """value"""}, else null.
     */
    static String quoted(String value) {
        if (whyNotQuotable(value) != null) return null;
        boolean oneLine = value.indexOf('\n') < 0 && value.indexOf('\r') < 0;
        return oneLine && !value.startsWith("\"\"") ? "\"" + value + "\"" : tripleQuoted(value);
    }

    /**
     * The text of Modelfile {@code modelfileName} for {@code ggufFileName} (names in the same folder), with {@code system}
     * (null or "": none) as its SYSTEM message; a system message the Modelfile cannot carry is refused ({@link #checkSystem}).
     */
    public static String text(String ggufFileName, String modelfileName, String jinja, String eosText, String system) throws JtuneException {
        checkSystem(system);
        return render(ggufFileName, modelfileName, jinja, eosText, system);
    }

    /** As {@link #text(String, String, String, String, String)}, {@code system} being checked already. */
    private static String render(String ggufFileName, String modelfileName, String jinja, String eosText, String system) {
        StringBuilder sb = new StringBuilder("# Ollama Modelfile written by jtune export gguf: ollama create NAME -f " + modelfileName + "\n");
        sb.append("FROM ./").append(ggufFileName).append('\n');
        String go = goTemplate(jinja);
        if (go != null) {
            String why = whyNotQuotable(go);
            if (why != null) throw new IllegalStateException("a Go template the Modelfile cannot quote: it " + why);
            sb.append("TEMPLATE ").append(tripleQuoted(go)).append('\n');
        } else if (jinja != null) {
            sb.append("# The chat template is not a layout jtune can translate to Go template syntax; Ollama uses its default.\n");
        } else {
            sb.append("# The model has no chat template; Ollama uses its default.\n");
        }
        if (system != null && !system.isEmpty()) sb.append("SYSTEM ").append(tripleQuoted(system)).append('\n');
        for (String stop : stops(jinja, eosText)) {
            String q = quoted(stop);
            if (q != null) sb.append("PARAMETER stop ").append(q).append('\n');
            else sb.append("# A stop string left out: it ").append(whyNotQuotable(stop)).append(".\n");
        }
        return sb.toString();
    }
}
