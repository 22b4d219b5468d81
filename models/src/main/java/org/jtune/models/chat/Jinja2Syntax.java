package org.jtune.models.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Rewrites the places where Jinjava would parse a Jinja2 template differently, before Jinjava sees it:
 * <ul>
 *   <li>{@code not} binds more loosely than tests, comparisons and filters in Jinja2
 *       ({@code not x is defined} is {@code not (x is defined)}): its operand is wrapped in parentheses, up
 *       to the next {@code and}, {@code or}, {@code if}, {@code else}, comma, colon or closing bracket at
 *       the same depth, or the end of the tag ({@code is not} and {@code not in} are left alone);</li>
 *   <li>a keyword argument's value is a whole expression ({@code namespace(n=messages|length - 1)}):
 *       it is wrapped in parentheses;</li>
 *   <li>{@code x[::-1]} becomes {@code (x|reverse|list)};</li>
 *   <li>a filtered loop {@code {% for v in seq if cond %}} becomes a loop over
 *       {@code (seq)|jinja2_loop_if('cond', 'v')}, so loop.index and loop.last count the kept items only.</li>
 * </ul>
 * String literals, comments and raw blocks are never touched.
 */
final class Jinja2Syntax {
    private Jinja2Syntax() {}

    /** Name of the filter that keeps the items of a filtered loop ({@link JinjaEnvironment.LoopIf}). */
    static final String LOOP_IF_FILTER = "jinja2_loop_if";

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
            String rewritten = rewriteExpression(body);
            if (opener.equals("{%")) rewritten = rewriteLoopFilter(rewritten);
            out.append(opener).append(rewritten);
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

    private record Token(String text, int start, int end, boolean word) {
        boolean is(String s) {
            return text.equals(s);
        }

        boolean opens() {
            return is("(") || is("[") || is("{");
        }

        boolean closes() {
            return is(")") || is("]") || is("}");
        }
    }

    private static List<Token> tokens(String body) {
        List<Token> tokens = new ArrayList<>();
        for (int i = 0; i < body.length(); ) {
            char c = body.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || c == '"') {
                int e = stringEnd(body, i);
                tokens.add(new Token(body.substring(i, e), i, e, false));
                i = e;
            } else if (Character.isLetterOrDigit(c) || c == '_') {
                int e = i;
                while (e < body.length() && (Character.isLetterOrDigit(body.charAt(e)) || body.charAt(e) == '_')) e++;
                tokens.add(new Token(body.substring(i, e), i, e, Character.isLetter(c) || c == '_'));
                i = e;
            } else if (c == '=' && i + 1 < body.length() && body.charAt(i + 1) == '=') {
                tokens.add(new Token("==", i, i + 2, false));
                i += 2;
            } else {
                tokens.add(new Token(String.valueOf(c), i, i + 1, false));
                i++;
            }
        }
        return tokens;
    }

    /** Index of the last token of the expression starting at from: up to a stop word or punctuation at depth 0. */
    private static int operandEnd(List<Token> tokens, int from, boolean stopAtKeywords) {
        int depth = 0, last = from - 1;
        for (int j = from; j < tokens.size(); j++) {
            Token t = tokens.get(j);
            if (t.opens()) depth++;
            else if (t.closes()) {
                if (depth == 0) break;
                depth--;
            } else if (depth == 0 && (t.is(",") || t.is(":")
                    || (stopAtKeywords && t.word() && (t.is("and") || t.is("or") || t.is("if") || t.is("else"))))) {
                break;
            }
            last = j;
        }
        return last;
    }

    private static String rewriteExpression(String body) {
        List<Token> tokens = tokens(body);
        TreeMap<Integer, StringBuilder> inserts = new TreeMap<>();
        TreeMap<Integer, Integer> removals = new TreeMap<>();
        int depth = 0;
        List<Boolean> inCall = new ArrayList<>();
        for (int k = 0; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (t.opens()) {
                // A '(' right after a name, ')' or ']' is a call; its keyword arguments may follow.
                boolean call = t.is("(") && k > 0 && (tokens.get(k - 1).word() || tokens.get(k - 1).is(")") || tokens.get(k - 1).is("]"));
                inCall.add(call);
                depth++;
            } else if (t.closes()) {
                if (!inCall.isEmpty()) inCall.removeLast();
                depth = Math.max(0, depth - 1);
            }
            if (t.word() && t.is("not") && !(k > 0 && tokens.get(k - 1).is("is"))
                    && k + 1 < tokens.size() && !tokens.get(k + 1).is("in")) {
                int last = operandEnd(tokens, k + 1, true);
                if (last > k) wrap(inserts, tokens.get(k + 1).start(), tokens.get(last).end());
            }
            // name=value inside a call's parentheses (not ==): the value is a whole expression.
            if (t.is("=") && k > 0 && tokens.get(k - 1).word() && !inCall.isEmpty() && inCall.getLast()
                    && k + 1 < tokens.size()) {
                int last = operandEnd(tokens, k + 1, false);
                if (last > k) wrap(inserts, tokens.get(k + 1).start(), tokens.get(last).end());
            }
            // x[::-1]: '[' ':' ':' '-' '1' ']'
            if (t.is("[") && k > 0 && k + 5 < tokens.size() && tokens.get(k + 1).is(":") && tokens.get(k + 2).is(":")
                    && tokens.get(k + 3).is("-") && tokens.get(k + 4).is("1") && tokens.get(k + 5).is("]")) {
                int start = primaryStart(tokens, k - 1);
                if (start >= 0) {
                    inserts.computeIfAbsent(tokens.get(start).start(), x -> new StringBuilder()).append("(");
                    removals.put(t.start(), tokens.get(k + 5).end());
                    inserts.computeIfAbsent(t.start(), x -> new StringBuilder()).insert(0, "|reverse|list)");
                }
            }
        }
        if (inserts.isEmpty()) return body;
        StringBuilder out = new StringBuilder(body.length() + inserts.size() * 2);
        int at = 0;
        for (var e : inserts.entrySet()) {
            if (e.getKey() < at) continue;
            out.append(body, at, e.getKey()).append(e.getValue());
            at = removals.getOrDefault(e.getKey(), e.getKey());
        }
        return out.append(body.substring(at)).toString();
    }

    private static void wrap(TreeMap<Integer, StringBuilder> inserts, int start, int end) {
        inserts.computeIfAbsent(start, x -> new StringBuilder()).append("(");
        inserts.computeIfAbsent(end, x -> new StringBuilder()).insert(0, ")");
    }

    /** Start token of the primary expression ending at index end (a name with attributes, calls and subscripts). */
    private static int primaryStart(List<Token> tokens, int end) {
        int j = end;
        while (j >= 0) {
            Token t = tokens.get(j);
            if (t.closes()) {
                int depth = 0;
                while (j >= 0) {
                    if (tokens.get(j).closes()) depth++;
                    else if (tokens.get(j).opens() && --depth == 0) break;
                    j--;
                }
                if (j < 0) return -1;
                if (j > 0 && (tokens.get(j - 1).word() || tokens.get(j - 1).closes())) {
                    j--;
                    continue;
                }
                return j;
            }
            if (t.word() || t.text().startsWith("'") || t.text().startsWith("\"")) {
                if (j > 1 && tokens.get(j - 1).is(".")) {
                    j -= 2;
                    continue;
                }
                return j;
            }
            return -1;
        }
        return -1;
    }

    /** {% for vars in seq if cond %} → {% for vars in (seq)|jinja2_loop_if('cond', 'vars') %}. */
    private static String rewriteLoopFilter(String body) {
        List<Token> tokens = tokens(body);
        int first = 0;
        while (first < tokens.size() && (tokens.get(first).is("-") || tokens.get(first).is("+"))) first++;
        if (first >= tokens.size() || !tokens.get(first).is("for")) return body;
        int in = -1;
        for (int k = first + 1; k < tokens.size(); k++) {
            if (tokens.get(k).word() && tokens.get(k).is("in")) {
                in = k;
                break;
            }
        }
        if (in < 0 || in + 1 >= tokens.size()) return body;
        int depth = 0, filterAt = -1;
        for (int k = in + 1; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (t.opens()) depth++;
            else if (t.closes()) depth--;
            else if (depth == 0 && t.word() && t.is("if")) {
                filterAt = k;
                break;
            }
        }
        if (filterAt < 0 || filterAt == in + 1 || filterAt + 1 >= tokens.size()) return body;
        int condEnd = tokens.size() - 1;
        if (tokens.get(condEnd).word() && tokens.get(condEnd).is("recursive")) condEnd--;
        String vars = body.substring(tokens.get(first + 1).start(), tokens.get(in - 1).end()).replaceAll("\\s+", "");
        String seq = body.substring(tokens.get(in + 1).start(), tokens.get(filterAt - 1).end());
        String cond = body.substring(tokens.get(filterAt + 1).start(), tokens.get(condEnd).end());
        return body.substring(0, tokens.get(in + 1).start()) + "(" + seq + ")|" + LOOP_IF_FILTER + "(" + quote(cond) + ", " + quote(vars) + ")"
                + body.substring(tokens.get(condEnd).end());
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
