package org.jtune.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One benchmark result: ordered key/value pairs printed as one JSON object per line on stdout
 * (with --json) or as a readable line (without). Numbers are rounded to 4 significant digits.
 */
final class ResultLine {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    ResultLine put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** The number stored under {@code key} (NaN when absent or not a number). */
    double number(String key) {
        return fields.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    void print(boolean json) {
        System.out.println(json ? toJson() : toText());
        System.out.flush();
    }

    String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (var e : fields.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(e.getKey()).append("\":").append(value(e.getValue(), true));
        }
        return sb.append('}').toString();
    }

    String toText() {
        StringBuilder sb = new StringBuilder();
        for (var e : fields.entrySet()) {
            if (!sb.isEmpty()) sb.append("  ");
            sb.append(e.getKey()).append('=').append(value(e.getValue(), false));
        }
        return sb.toString();
    }

    private static String value(Object v, boolean json) {
        return switch (v) {
            case null -> "null";
            case Double d when d.isNaN() || d.isInfinite() -> "null";
            case Double d -> round(d);
            case Float f -> round(f);
            case Number n -> n.toString();
            case Boolean b -> b.toString();
            default -> json ? quote(v.toString()) : v.toString();
        };
    }

    private static String round(double d) {
        if (d == 0) return "0";
        double mag = Math.pow(10, 3 - Math.floor(Math.log10(Math.abs(d))));
        double r = Math.round(d * mag) / mag;
        return r == Math.rint(r) && Math.abs(r) < 1e15 ? String.valueOf((long) r) : String.format(Locale.ROOT, "%s", r);
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
