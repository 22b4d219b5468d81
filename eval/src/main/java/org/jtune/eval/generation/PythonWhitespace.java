package org.jtune.eval.generation;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's notion of whitespace ({@code str.isspace}, used by {@code str.split()} and {@code str.rstrip()}),
 * which the reference scorers rely on: ASCII \t \n \u000B \f \r, the separators \u001C-\u001F, space,
 * \u0085, \u00A0 and the Unicode space separators. Java's {@code Character.isWhitespace} differs (it excludes
 * no-break spaces), so metrics that must agree with sacreBLEU use this class.
 */
public final class PythonWhitespace {
    private PythonWhitespace() {
    }

    public static boolean isSpace(int c) {
        return switch (c) {
            case '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                 0x202F, 0x205F, 0x3000 -> true;
            default -> c >= 0x2000 && c <= 0x200A;
        };
    }

    /** {@code s.split()}: maximal runs of non-space characters. */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); i++) {
            if (isSpace(s.charAt(i))) {
                if (start >= 0) out.add(s.substring(start, i));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) out.add(s.substring(start));
        return out;
    }

    /** {@code s.rstrip()}. */
    public static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) end--;
        return s.substring(0, end);
    }

    /** {@code ''.join(s.split())}: every whitespace character removed. */
    public static String removeAll(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) if (!isSpace(s.charAt(i))) b.append(s.charAt(i));
        return b.toString();
    }
}
