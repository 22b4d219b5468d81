package org.jtune.models.gguf;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How Ollama reads a Modelfile (ollama/ollama parser/parser.go, ParseFile), restated from its rules so that tests can
 * check what the Modelfiles jtune writes give back to Ollama:
 * <ul>
 * <li>Between commands, spaces, tabs and line breaks are skipped, and '#' starts a comment that runs to the line's end.
 * <li>A command is a word of ASCII letters (any case) ended by a space or tab; PARAMETER is followed by a parameter name
 *     (letters, digits, '_') ended by a space or tab.
 * <li>The value runs on from there. At each space, tab or line break the value so far, trimmed, is tested: it is
 *     complete unless it opens with {@code """} without closing with {@code """} (six characters at least), or opens
 *     with {@code "} without closing with {@code "} (two at least). A line break after a complete value ends the
 *     command; otherwise the space, tab or line break belongs to the value.
 * <li>Any other character belongs to the value when Go counts it printable (unicode.IsPrint: not a control, format,
 *     private-use, surrogate or unassigned code point, nor a separator other than the ASCII space); the rest are dropped.
 * <li>The argument is the trimmed value without its quotes, taken literally (no escapes). An incomplete value at the
 *     end of the text is an error.
 * </ul>
 * MESSAGE (a role before the value), which jtune does not write, is not read.
 */
final class ModelfileReader {
    /** A command: its lower-cased word (a PARAMETER's own name for a parameter) and its argument. */
    record Command(String name, String args) {}

    private static final Set<Integer> NOT_PRINTABLE = Set.of((int) Character.UNASSIGNED, (int) Character.CONTROL, (int) Character.FORMAT,
            (int) Character.PRIVATE_USE, (int) Character.SURROGATE, (int) Character.SPACE_SEPARATOR, (int) Character.LINE_SEPARATOR,
            (int) Character.PARAGRAPH_SEPARATOR);

    private ModelfileReader() {}

    static List<Command> read(String text) {
        List<Command> commands = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == ' ' || c == '\t' || lineBreak(c)) {
                i++;
            } else if (c == '#') {
                while (i < text.length() && !lineBreak(text.charAt(i))) i++;
            } else {
                int start = i;
                while (i < text.length() && letter(text.charAt(i))) i++;
                String name = text.substring(start, i).toLowerCase(Locale.ROOT);
                i = afterBlank(text, i, start);
                if (name.equals("parameter")) {
                    start = i;
                    while (i < text.length() && (letter(text.charAt(i)) || Character.isDigit(text.charAt(i)) || text.charAt(i) == '_')) i++;
                    name = text.substring(start, i);
                    i = afterBlank(text, i, start);
                }
                StringBuilder value = new StringBuilder();
                String args = null;
                while (i < text.length() && args == null) {
                    int cp = text.codePointAt(i);
                    i += Character.charCount(cp);
                    if (cp == ' ' || cp == '\t' || lineBreak(cp)) {
                        String complete = unquoted(value.toString().strip());
                        if (complete != null && lineBreak(cp)) args = complete;
                        else value.appendCodePoint(cp);
                    } else if (!NOT_PRINTABLE.contains(Character.getType(cp))) {
                        value.appendCodePoint(cp);
                    }
                }
                if (args == null) args = unquoted(value.toString().strip());
                if (args == null) throw new IllegalArgumentException("the text ends inside the value of " + name);
                commands.add(new Command(name, args));
            }
        }
        return commands;
    }

    /** The arguments of every command named {@code name}, in order. */
    static List<String> args(String text, String name) {
        return read(text).stream().filter(c -> c.name().equals(name)).map(Command::args).toList();
    }

    /** The value without its quotes, or null while it is still open. */
    private static String unquoted(String v) {
        if (v.startsWith("\"\"\"")) return v.length() >= 6 && v.endsWith("\"\"\"") ? v.substring(3, v.length() - 3) : null;
        if (v.startsWith("\"")) return v.length() >= 2 && v.endsWith("\"") ? v.substring(1, v.length() - 1) : null;
        return v;
    }

    /** The index after the space or tab that must end a word started at {@code start} and ending at {@code i}. */
    private static int afterBlank(String text, int i, int start) {
        if (i == start || i == text.length() || (text.charAt(i) != ' ' && text.charAt(i) != '\t')) {
            throw new IllegalArgumentException("not a command or parameter name at offset " + start + ": " + text.substring(start, Math.min(text.length(), start + 20)));
        }
        return i + 1;
    }

    private static boolean letter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean lineBreak(int c) {
        return c == '\n' || c == '\r';
    }
}
