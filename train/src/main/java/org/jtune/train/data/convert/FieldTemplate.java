package org.jtune.train.data.convert;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;

/**
 * The text of one role built from a source row: either one column, or a small template such as
 * {@code "Ticket: {subject}\n{body}"} where {@code {name}} is replaced by that column's value and
 * {@code {{}} and {@code }}} stand for literal braces; "\n" and "\t" in a template given on the command
 * line are the escapes, not backslashes. Values are stripped of surrounding whitespace unless told
 * otherwise. A required template refuses a row whose referenced column is missing or blank.
 */
public final class FieldTemplate {
    /** Why a row's text could not be built; the message names the column. */
    public static final class MissingValue extends Exception {
        MissingValue(String message) {
            super(message, null, false, false);
        }
    }

    private record Part(String literal, String field) {}

    private final String source;
    private final List<Part> parts;

    private FieldTemplate(String source, List<Part> parts) {
        this.source = source;
        this.parts = List.copyOf(parts);
    }

    /** The whole value of one column. */
    public static FieldTemplate column(String name) {
        return new FieldTemplate("{" + name + "}", List.of(new Part(null, name)));
    }

    /** Fixed text (a system prompt): no placeholders, braces are literal. */
    public static FieldTemplate literal(String text) {
        return new FieldTemplate(text, List.of(new Part(text, null)));
    }

    /**
     * Parses a template; {@code option} names where it came from in errors.
     *
     * @throws JtuneException for an unclosed or empty placeholder, or a lone closing brace
     */
    public static FieldTemplate parse(String template, String option) throws JtuneException {
        String t = template.replace("\\n", "\n").replace("\\t", "\t");
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '{' && i + 1 < t.length() && t.charAt(i + 1) == '{') {
                literal.append('{');
                i++;
            } else if (c == '}' && i + 1 < t.length() && t.charAt(i + 1) == '}') {
                literal.append('}');
                i++;
            } else if (c == '{') {
                int end = t.indexOf('}', i + 1);
                if (end < 0) throw new JtuneException(option + " \"" + template + "\": the placeholder at character " + (i + 1)
                        + " is never closed with }; write {{ for a literal brace");
                String name = t.substring(i + 1, end);
                if (name.isEmpty()) throw new JtuneException(option + " \"" + template + "\": empty placeholder {}");
                if (!literal.isEmpty()) parts.add(new Part(literal.toString(), null));
                literal.setLength(0);
                parts.add(new Part(null, name));
                i = end;
            } else if (c == '}') {
                throw new JtuneException(option + " \"" + template + "\": a lone } at character " + (i + 1) + "; write }} for a literal brace");
            } else {
                literal.append(c);
            }
        }
        if (!literal.isEmpty()) parts.add(new Part(literal.toString(), null));
        if (parts.stream().noneMatch(p -> p.field() != null)) {
            throw new JtuneException(option + " \"" + template + "\" names no column; use {column} placeholders");
        }
        return new FieldTemplate(template, parts);
    }

    /** The columns this template reads, in order of first use. */
    public Set<String> columns() {
        Set<String> names = new LinkedHashSet<>();
        for (Part p : parts) if (p.field() != null) names.add(p.field());
        return names;
    }

    /** The template as given, for reports. */
    public String source() {
        return source;
    }

    /**
     * The text for {@code row}.
     *
     * @param role     the role's name for messages ("user text")
     * @param strip    strip each value (and the result) of surrounding whitespace
     * @param required refuse a row whose referenced column is missing or blank
     * @param stripped counts values that had surrounding whitespace removed (one element)
     */
    public String fill(SourceRow row, String role, boolean strip, boolean required, long[] stripped) throws MissingValue {
        StringBuilder out = new StringBuilder();
        for (Part p : parts) {
            if (p.field() == null) {
                out.append(p.literal());
                continue;
            }
            String v = row.fields().get(p.field());
            if (v == null) {
                String type = row.notText().get(p.field());
                if (type != null) throw new MissingValue(role + ": field \"" + p.field() + "\" is " + type + ", not text");
                if (required) throw new MissingValue(role + ": no field \"" + p.field() + "\" in this row");
                continue;
            }
            if (strip) {
                String s = v.strip();
                if (s.length() != v.length()) stripped[0]++;
                v = s;
            }
            if (required && v.isBlank()) throw new MissingValue(role + ": column \"" + p.field() + "\" is empty");
            out.append(v);
        }
        return strip ? out.toString().strip() : out.toString();
    }
}
