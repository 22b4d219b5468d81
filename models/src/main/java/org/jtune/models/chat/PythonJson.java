package org.jtune.models.chat;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * JSON text as Python's json.dumps writes it (what Hugging Face's tojson filter produces): ", " and ": "
 * separators on one line, or with indent a newline and that many spaces per level (and "," at line ends);
 * non-ASCII characters kept (ensure_ascii=False); control characters escaped.
 */
final class PythonJson {
    private PythonJson() {}

    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(value, indent, 0, out);
        return out.toString();
    }

    private static void write(Object v, int indent, int depth, StringBuilder out) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) out.append("NaN");
            else if (Double.isInfinite(d)) out.append(d > 0 ? "Infinity" : "-Infinity");
            else out.append(pythonFloat(d));
        } else if (v instanceof BigDecimal bd) {
            out.append(bd.toPlainString());
        } else if (v instanceof Number n) {
            out.append(n instanceof BigInteger big ? big.toString() : Long.toString(n.longValue()));
        } else if (v instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) out.append(indent >= 0 ? "," : ", ");
                first = false;
                newline(indent, depth + 1, out);
                string(String.valueOf(e.getKey()), out);
                out.append(": ");
                write(e.getValue(), indent, depth + 1, out);
            }
            newline(indent, depth, out);
            out.append('}');
        } else if (v instanceof Iterable<?> || v.getClass().isArray()) {
            java.util.List<Object> items = new java.util.ArrayList<>();
            if (v instanceof Iterable<?> it) for (Object o : it) items.add(o);
            else for (int i = 0; i < Array.getLength(v); i++) items.add(Array.get(v, i));
            if (items.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) out.append(indent >= 0 ? "," : ", ");
                newline(indent, depth + 1, out);
                write(items.get(i), indent, depth + 1, out);
            }
            newline(indent, depth, out);
            out.append(']');
        } else {
            string(v.toString(), out);
        }
    }

    private static void newline(int indent, int depth, StringBuilder out) {
        if (indent < 0) return;
        out.append('\n');
        out.append(" ".repeat(indent * depth));
    }

    /** repr-style float: shortest round-trip digits, "1.0" for integral values, exponent as 1e+20. */
    private static String pythonFloat(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return (long) d + ".0";
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) return s;
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) mantissa = mantissa.substring(0, mantissa.length() - 2);
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
