package org.jtune.models.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Gives Jinja's {@code not} its Python precedence before Jinjava parses a template. In Jinja2 {@code not}
 * binds more loosely than comparisons, tests and filters ({@code not x is defined} means
 * {@code not (x is defined)}); Jinjava binds it to the nearest operand. So every {@code not} operator in
 * an expression gets its operand wrapped in parentheses, up to the next {@code and}, {@code or},
 * {@code if}, {@code else}, comma, colon or closing bracket at the same depth, or the end of the tag.
 * {@code is not} and {@code not in} are left alone; string literals, comments and raw blocks are untouched.
 */
final class NotPrecedence {
    private NotPrecedence() {}

    static String rewrite(String template) {
        StringBuilder out = new StringBuilder(template.length() + 32);
        int i = 0;
        while (i < template.length()) {
            int open = nextTagStart(template, i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            out.append(template, i, open);
            String opener = template.substring(open, open + 2);
            if (opener.equals("{#")) {
                int close = template.indexOf("#}", open + 2);
                int end = close < 0 ? template.length() : close + 2;
                out.append(template, open, end);
                i = end;
                continue;
            }
            int end = expressionEnd(template, open + 2, opener.equals("{{") ? "}}" : "%}");
            String body = template.substring(open + 2, end);
            if (opener.equals("{%") && body.strip().replaceFirst("^[-+]", "").strip().startsWith("raw")) {
                int endRaw = template.indexOf("endraw", end);
                int close = endRaw < 0 ? -1 : template.indexOf("%}", endRaw);
                int stop = close < 0 ? template.length() : close + 2;
                out.append(template, open, stop);
                i = stop;
                continue;
            }
            out.append(opener).append(rewriteExpression(body));
            i = end;
        }
        return out.toString();
    }

    private static int nextTagStart(String t, int from) {
        for (int i = t.indexOf('{', from); i >= 0 && i + 1 < t.length(); i = t.indexOf('{', i + 1)) {
            char c = t.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** Index of the closing delimiter (or of its '-' trim marker), skipping string literals. */
    private static int expressionEnd(String t, int from, String closer) {
        int i = from;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c == '\'' || c == '"') {
                i = stringEnd(t, i);
                continue;
            }
            if (t.startsWith(closer, i)) return i > from && t.charAt(i - 1) == '-' ? i - 1 : i;
            i++;
        }
        return t.length();
    }

    private static int stringEnd(String t, int start) {
        char quote = t.charAt(start);
        int i = start + 1;
        while (i < t.length() && t.charAt(i) != quote) i += t.charAt(i) == '\\' ? 2 : 1;
        return Math.min(i + 1, t.length());
    }

    private record Token(String text, int start, int end, boolean word) {}

    private static String rewriteExpression(String body) {
        List<Token> tokens = new ArrayList<>();
        for (int i = 0; i < body.length(); ) {
            char c = body.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || c == '"') {
                int e = stringEnd(body, i);
                tokens.add(new Token(body.substring(i, e), i, e, false));
                i = e;
            } else if (Character.isLetter(c) || c == '_') {
                int e = i;
                while (e < body.length() && (Character.isLetterOrDigit(body.charAt(e)) || body.charAt(e) == '_')) e++;
                tokens.add(new Token(body.substring(i, e), i, e, true));
                i = e;
            } else {
                tokens.add(new Token(String.valueOf(c), i, i + 1, false));
                i++;
            }
        }
        TreeMap<Integer, StringBuilder> inserts = new TreeMap<>();
        for (int k = 0; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (!t.word() || !t.text().equals("not")) continue;
            if (k > 0 && tokens.get(k - 1).text().equals("is")) continue;
            if (k + 1 >= tokens.size() || tokens.get(k + 1).text().equals("in")) continue;
            int depth = 0, last = k;
            for (int j = k + 1; j < tokens.size(); j++) {
                String s = tokens.get(j).text();
                boolean word = tokens.get(j).word();
                if (s.equals("(") || s.equals("[") || s.equals("{")) depth++;
                else if (s.equals(")") || s.equals("]") || s.equals("}")) {
                    if (depth == 0) break;
                    depth--;
                } else if (depth == 0 && (s.equals(",") || s.equals(":")
                        || (word && (s.equals("and") || s.equals("or") || s.equals("if") || s.equals("else"))))) {
                    break;
                }
                last = j;
            }
            if (last == k) continue;
            inserts.computeIfAbsent(tokens.get(k + 1).start(), x -> new StringBuilder()).append("(");
            inserts.computeIfAbsent(tokens.get(last).end(), x -> new StringBuilder()).insert(0, ")");
        }
        if (inserts.isEmpty()) return body;
        StringBuilder out = new StringBuilder(body.length() + inserts.size() * 2);
        int at = 0;
        for (var e : inserts.entrySet()) {
            out.append(body, at, e.getKey()).append(e.getValue());
            at = e.getKey();
        }
        return out.append(body.substring(at)).toString();
    }
}
