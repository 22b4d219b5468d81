package org.jtune.eval.human;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;

/**
 * RFC 4180 CSV: fields separated by commas, quoted with '"' when they hold a comma, quote, CR or LF, quotes
 * doubled inside quotes; rows end with CRLF (LF accepted when reading). A leading UTF-8 BOM (spreadsheets
 * add one) is ignored. {@link #parse} returns rows with the 1-based line each row starts on.
 */
public final class Csv {
    private Csv() {
    }

    public record Row(int line, List<String> fields) {
    }

    public static String row(List<String> fields) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) b.append(',');
            String f = fields.get(i) == null ? "" : fields.get(i);
            if (f.contains(",") || f.contains("\"") || f.contains("\n") || f.contains("\r")) {
                b.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                b.append(f);
            }
        }
        return b.append("\r\n").toString();
    }

    public static List<Row> parse(String text, String source) throws JtuneException {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<Row> rows = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false, fieldStarted = false;
        int line = 1, rowLine = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        f.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') line++;
                    f.append(c);
                }
                continue;
            }
            switch (c) {
                case '"' -> {
                    if (f.length() > 0) throw new JtuneException(source + ":" + line + ": stray quote inside a field");
                    quoted = true;
                    fieldStarted = true;
                }
                case ',' -> {
                    fields.add(f.toString());
                    f.setLength(0);
                    fieldStarted = true;
                }
                case '\r' -> {
                }
                case '\n' -> {
                    if (fieldStarted || f.length() > 0 || !fields.isEmpty()) {
                        fields.add(f.toString());
                        rows.add(new Row(rowLine, List.copyOf(fields)));
                    }
                    fields.clear();
                    f.setLength(0);
                    fieldStarted = false;
                    line++;
                    rowLine = line;
                }
                default -> {
                    f.append(c);
                    fieldStarted = true;
                }
            }
        }
        if (quoted) throw new JtuneException(source + ":" + rowLine + ": a quoted field is never closed");
        if (fieldStarted || f.length() > 0 || !fields.isEmpty()) {
            fields.add(f.toString());
            rows.add(new Row(rowLine, List.copyOf(fields)));
        }
        return rows;
    }
}
