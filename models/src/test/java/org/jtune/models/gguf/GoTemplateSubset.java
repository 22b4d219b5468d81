package org.jtune.models.gguf;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of Go's text/template that the Modelfile TEMPLATEs use, to render them in tests as Ollama does: text;
 * actions with the trim markers "{{- " and " -}}" (white space before or after the action is dropped); if / else if /
 * else / end; range over a list (dot is the element); $x := v and $x = v (assignment reaches a variable declared
 * outside the range, as in Go ≥ 1.11); operands .Field, $.Field, $x, "string", true, false and (…); the functions eq
 * (first argument equal to any other), ne, not, and, or (Go's: the first falsy/truthy argument, else the last). Truth
 * is Go's: false, "", nil, an empty list or map, zero. Anything else fails the test loudly.
 */
final class GoTemplateSubset {
    private static final Pattern ACTION = Pattern.compile("\\{\\{(- )?(.*?)( -)?}}", Pattern.DOTALL);

    private GoTemplateSubset() {}

    /** Renders {@code template} with {@code data} as dot (and $). */
    static String render(String template, Map<String, Object> data) {
        List<Object> tokens = new ArrayList<>();   // String text, or String[] {action}
        Matcher m = ACTION.matcher(template);
        int at = 0;
        boolean trimNext = false;
        while (m.find()) {
            String text = template.substring(at, m.start());
            if (trimNext) text = text.stripLeading();
            if (m.group(1) != null) text = text.stripTrailing();
            tokens.add(text);
            tokens.add(new String[] {m.group(2).strip()});
            trimNext = m.group(3) != null;
            at = m.end();
        }
        String tail = template.substring(at);
        tokens.add(trimNext ? tail.stripLeading() : tail);
        StringBuilder out = new StringBuilder();
        Deque<Map<String, Object>> vars = new ArrayDeque<>();
        vars.push(new HashMap<>(Map.of("$", data)));
        int end = walk(tokens, 0, data, vars, out, true);
        if (end != tokens.size()) throw new IllegalArgumentException("unexpected {{" + ((String[]) tokens.get(end))[0] + "}}");
        return out.toString();
    }

    /** Walks tokens from i until an unmatched end/else (returned index), emitting when {@code on}. */
    private static int walk(List<Object> tokens, int i, Object dot, Deque<Map<String, Object>> vars, StringBuilder out, boolean on) {
        while (i < tokens.size()) {
            Object t = tokens.get(i);
            if (t instanceof String text) {
                if (on) out.append(text);
                i++;
                continue;
            }
            String action = ((String[]) t)[0];
            if (action.equals("end") || action.equals("else") || action.startsWith("else if ")) return i;
            if (action.startsWith("if ")) {
                boolean taken = false;
                String cond = action.substring(3);
                while (true) {
                    boolean branch = on && !taken && (cond == null || truth(eval(cond, dot, vars)));
                    vars.push(new HashMap<>());
                    i = walk(tokens, i + 1, dot, vars, out, branch);
                    vars.pop();
                    taken |= branch;
                    String stop = ((String[]) tokens.get(i))[0];
                    if (stop.equals("end")) return walk(tokens, i + 1, dot, vars, out, on);
                    cond = stop.equals("else") ? null : stop.substring("else if ".length());
                }
            }
            if (action.startsWith("range ")) {
                Object list = on ? eval(action.substring(6), dot, vars) : List.of();
                int after = -1;
                for (Object element : list == null ? List.of() : (Collection<?>) list) {
                    vars.push(new HashMap<>());
                    after = walk(tokens, i + 1, element, vars, out, true);
                    vars.pop();
                }
                if (after < 0) after = walk(tokens, i + 1, dot, vars, out, false);
                if (!((String[]) tokens.get(after))[0].equals("end")) throw new IllegalArgumentException("range without end");
                i = after + 1;
                continue;
            }
            Matcher assign = Pattern.compile("(\\$\\w+)\\s*(:?=)\\s*(.*)", Pattern.DOTALL).matcher(action);
            if (assign.matches()) {
                if (on) {
                    Object v = eval(assign.group(3), dot, vars);
                    if (assign.group(2).equals(":=")) vars.peek().put(assign.group(1), v);
                    else scopeOf(vars, assign.group(1)).put(assign.group(1), v);
                }
            } else if (on) {
                Object v = eval(action, dot, vars);
                out.append(v == null ? "<no value>" : v.toString());
            }
            i++;
        }
        return i;
    }

    private static Map<String, Object> scopeOf(Deque<Map<String, Object>> vars, String name) {
        for (Map<String, Object> scope : vars) if (scope.containsKey(name)) return scope;
        throw new IllegalArgumentException("undefined variable " + name);
    }

    /** A command: one operand, or a function and its operands. */
    private static Object eval(String expr, Object dot, Deque<Map<String, Object>> vars) {
        List<String> words = words(expr.strip());
        String f = words.getFirst();
        if (words.size() == 1) return operand(f, dot, vars);
        List<Object> args = new ArrayList<>();
        for (String w : words.subList(1, words.size())) args.add(operand(w, dot, vars));
        return switch (f) {
            case "eq" -> args.subList(1, args.size()).stream().anyMatch(a -> Objects.equals(args.getFirst(), a));
            case "ne" -> !Objects.equals(args.get(0), args.get(1));
            case "not" -> !truth(args.getFirst());
            case "and" -> args.stream().filter(a -> !truth(a)).findFirst().orElse(args.getLast());
            case "or" -> args.stream().filter(GoTemplateSubset::truth).findFirst().orElse(args.getLast());
            default -> throw new IllegalArgumentException("function " + f + " is not in the subset");
        };
    }

    private static Object operand(String w, Object dot, Deque<Map<String, Object>> vars) {
        if (w.startsWith("(")) return eval(w.substring(1, w.length() - 1), dot, vars);
        if (w.startsWith("\"")) return w.substring(1, w.length() - 1);
        if (w.equals("true") || w.equals("false")) return Boolean.parseBoolean(w);
        if (w.equals(".")) return dot;
        if (w.startsWith(".")) return field(dot, w.substring(1));
        if (w.startsWith("$.")) return field(scopeOf(vars, "$").get("$"), w.substring(2));
        if (w.startsWith("$")) return scopeOf(vars, w).get(w);
        throw new IllegalArgumentException("operand " + w + " is not in the subset");
    }

    private static Object field(Object of, String name) {
        if (!(of instanceof Map<?, ?> map)) throw new IllegalArgumentException("." + name + " of a non-map " + of);
        if (!map.containsKey(name)) throw new IllegalArgumentException("no field ." + name);
        return map.get(name);
    }

    /** Space-separated words, a quoted string or a parenthesised group being one word. */
    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ') {
                i++;
                continue;
            }
            int j = i + 1;
            if (c == '"') {
                while (s.charAt(j) != '"') j++;
                j++;
            } else if (c == '(') {
                int depth = 1;
                for (; depth > 0; j++) depth += s.charAt(j) == '(' ? 1 : s.charAt(j) == ')' ? -1 : 0;
            } else {
                while (j < s.length() && s.charAt(j) != ' ') j++;
            }
            out.add(s.substring(i, j));
            i = j;
        }
        return out;
    }

    static boolean truth(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case Number n -> n.doubleValue() != 0;
            default -> true;
        };
    }
}
