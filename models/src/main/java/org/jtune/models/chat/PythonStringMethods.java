package org.jtune.models.chat;

import com.hubspot.jinjava.objects.SafeString;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's str methods for Jinja expressions, which Hugging Face chat templates call on message text
 * ({@code content.strip()}, {@code role.startswith('sys')}, {@code text.split('\n')}, ...), and Python's
 * indexing of a string ({@code s[-1]}). Placed before Jinjava's own resolvers so that Java's methods of
 * the same name (String.split takes a regex) never answer instead.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        // Jinjava hands the index over as text ("-1").
        if (!(stringOf(base) instanceof String s) || property == null || !property.toString().matches("-?\\d{1,9}")) return null;
        long index = Long.parseLong(property.toString());
        if (index < 0) index += s.length();
        context.setPropertyResolved(true);
        return index >= 0 && index < s.length() ? String.valueOf(s.charAt((int) index)) : null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        String s = stringOf(base);
        if (s == null || method == null) return null;
        Object[] p = params == null ? new Object[0] : params;
        Object result = call(s, method.toString(), p);
        if (result != NO_SUCH_METHOD) {
            context.setPropertyResolved(true);
            return result;
        }
        return null;
    }

    private static final Object NO_SUCH_METHOD = new Object();

    private static Object call(String s, String name, Object[] p) {
        return switch (name) {
            case "strip" -> strip(s, p.length > 0 ? p[0] : null, true, true);
            case "lstrip" -> strip(s, p.length > 0 ? p[0] : null, true, false);
            case "rstrip" -> strip(s, p.length > 0 ? p[0] : null, false, true);
            case "startswith" -> affix(s, p.length > 0 ? p[0] : null, true);
            case "endswith" -> affix(s, p.length > 0 ? p[0] : null, false);
            case "split" -> split(s, p.length > 0 ? p[0] : null, p.length > 1 && p[1] instanceof Number m ? m.intValue() : -1);
            case "rsplit" -> rsplit(s, p.length > 0 ? p[0] : null, p.length > 1 && p[1] instanceof Number m ? m.intValue() : -1);
            case "splitlines" -> splitLines(s);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, String.valueOf(p[0]), String.valueOf(p[1]), p.length > 2 && p[2] instanceof Number c ? c.intValue() : -1);
            case "find" -> (long) s.indexOf(String.valueOf(p[0]));
            case "rfind" -> (long) s.lastIndexOf(String.valueOf(p[0]));
            case "count" -> count(s, String.valueOf(p[0]));
            case "join" -> join(s, p.length > 0 ? p[0] : null);
            case "removeprefix" -> s.startsWith(String.valueOf(p[0])) ? s.substring(String.valueOf(p[0]).length()) : s;
            case "removesuffix" -> s.endsWith(String.valueOf(p[0])) ? s.substring(0, s.length() - String.valueOf(p[0]).length()) : s;
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PythonStringMethods::isSpace);
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(Character::isLowerCase);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(Character::isUpperCase);
            default -> NO_SUCH_METHOD;
        };
    }

    private static String stringOf(Object base) {
        if (base instanceof String s) return s;
        if (base instanceof SafeString safe) return safe.toString();
        return null;
    }

    private static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    private static String strip(String s, Object chars, boolean left, boolean right) {
        String set = chars == null ? null : chars.toString();
        int start = 0, end = s.length();
        while (left && start < end && (set == null ? isSpace(s.charAt(start)) : set.indexOf(s.charAt(start)) >= 0)) start++;
        while (right && end > start && (set == null ? isSpace(s.charAt(end - 1)) : set.indexOf(s.charAt(end - 1)) >= 0)) end--;
        return s.substring(start, end);
    }

    /** startswith / endswith with a string or a tuple (list) of strings. */
    private static boolean affix(String s, Object arg, boolean prefix) {
        if (arg instanceof Collection<?> options) {
            for (Object o : options) if (affix(s, o, prefix)) return true;
            return false;
        }
        String a = String.valueOf(arg);
        return prefix ? s.startsWith(a) : s.endsWith(a);
    }

    /** Python's split: on runs of whitespace without a separator, else on the literal separator, keeping empty parts. */
    static List<String> split(String s, Object separator, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (separator == null) {
            int i = 0;
            while (i < s.length()) {
                while (i < s.length() && isSpace(s.charAt(i))) i++;
                if (i >= s.length()) break;
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    return out;
                }
                int j = i;
                while (j < s.length() && !isSpace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        String sep = separator.toString();
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    /** Python's rsplit: like split, but a maximum number of cuts is counted from the right. */
    static List<String> rsplit(String s, Object separator, int maxSplit) {
        List<String> all = split(s, separator, -1);
        if (maxSplit < 0 || all.size() <= maxSplit + 1) return all;
        if (separator == null) {
            List<String> tail = new ArrayList<>(all.subList(all.size() - maxSplit, all.size()));
            int cut = s.length();
            for (int i = 0; i < maxSplit; i++) cut = s.lastIndexOf(tail.get(tail.size() - 1 - i), cut - 1);
            List<String> out = new ArrayList<>();
            out.add(strip(s.substring(0, cut), null, true, true));
            out.addAll(tail);
            return out;
        }
        String sep = separator.toString();
        List<String> out = new ArrayList<>();
        out.add(String.join(sep, all.subList(0, all.size() - maxSplit)));
        out.addAll(all.subList(all.size() - maxSplit, all.size()));
        return out;
    }

    /** Python's splitlines(): no trailing empty line, nothing for "". */
    private static List<String> splitLines(String s) {
        List<String> parts = new ArrayList<>(List.of(s.split("\r\n|[\n\r\u000B\u000C\u001C\u001D\u001E\u0085\u2028\u2029]", -1)));
        if (parts.getLast().isEmpty()) parts.removeLast();
        return parts;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            out.appendCodePoint(cased ? (previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp)) : cp);
            previousCased = cased;
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) return s.replace(old, replacement);
        StringBuilder out = new StringBuilder();
        int from = 0, done = 0;
        while (done < count) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) break;
            out.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) out.append(s.charAt(at));
                from = at + 1;
            } else {
                from = at + old.length();
            }
            done++;
        }
        if (from <= s.length()) out.append(s.substring(Math.min(from, s.length())));
        return out.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1L;
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    private static String join(String separator, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> it) for (Object o : it) parts.add(String.valueOf(o));
        else if (items != null) for (char c : items.toString().toCharArray()) parts.add(String.valueOf(c));
        return String.join(separator, parts);
    }

    // Property access other than indexing is left to the other resolvers.
    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
