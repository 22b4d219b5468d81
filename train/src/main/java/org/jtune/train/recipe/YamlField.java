package org.jtune.train.recipe;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.DumperOptions;

/**
 * One value of a recipe as a YAML node, converted to the Java type a key wants. Every failure is a
 * {@link RecipeException} naming the file, the line and the key, the expected type or range, and
 * the value found. Only the YAML core types are accepted (no application tags); a number written
 * without a decimal point in the exponent ("1e-4", which YAML 1.1 reads as a string) is still a number.
 */
final class YamlField {
    final String key;
    final Node node;
    final String source;

    YamlField(String key, Node node, String source) {
        this.key = key;
        this.node = node;
        this.source = source;
    }

    int line() {
        return node.getStartMark() == null ? -1 : node.getStartMark().getLine() + 1;
    }

    /** "file line N: " */
    String where() {
        return RecipeReader.where(source, line());
    }

    RecipeException error(String expectation) {
        return new RecipeException(where() + key + " must be " + expectation + ", got " + describe(node));
    }

    boolean isNull() {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    private ScalarNode scalar(String expectation) throws RecipeException {
        if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) return s;
        throw error(expectation);
    }

    String string() throws RecipeException {
        return scalar("a string").getValue();
    }

    boolean bool() throws RecipeException {
        ScalarNode s = scalar("true or false");
        if (!s.getTag().equals(Tag.BOOL)) throw error("true or false");
        return switch (s.getValue().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "y" -> true;
            default -> false;
        };
    }

    long integer(long min, long max) throws RecipeException {
        String range = min == Long.MIN_VALUE ? "a whole number" : max == Long.MAX_VALUE ? "a whole number >= " + min
                : "a whole number in [" + min + ", " + max + "]";
        ScalarNode s = scalar(range);
        long v;
        try {
            if (!(s.getTag().equals(Tag.INT) || plainString(s))) throw new NumberFormatException();
            v = Long.parseLong(s.getValue().replace("_", "").replaceFirst("^\\+", ""));
        } catch (NumberFormatException e) {
            throw error(range);
        }
        if (v < min || v > max) throw error(range);
        return v;
    }

    int integer(int min, int max) throws RecipeException {
        return (int) integer((long) min, (long) max);
    }

    /** A finite number; {@code lo}/{@code hi} bounds, each inclusive or exclusive, described in {@code range}. */
    double number(String range, double lo, boolean loInclusive, double hi, boolean hiInclusive) throws RecipeException {
        ScalarNode s = scalar("a number " + range);
        double v;
        try {
            if (!(s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT) || plainString(s))) {
                throw quoted(s, "a number " + range);
            }
            v = Double.parseDouble(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            throw error("a number " + range);
        }
        boolean ok = Double.isFinite(v) && (loInclusive ? v >= lo : v > lo) && (hiInclusive ? v <= hi : v < hi);
        if (!ok) throw error("a number " + range);
        return v;
    }

    private RecipeException quoted(ScalarNode s, String expectation) {
        return new RecipeException(where() + key + " must be " + expectation + ", got the quoted string \"" + s.getValue()
                + "\" (remove the quotes)");
    }

    /** An unquoted scalar that YAML resolved as a string, e.g. 1e-4 under YAML 1.1 rules. */
    private static boolean plainString(ScalarNode s) {
        return s.getTag().equals(Tag.STR) && s.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN;
    }

    <E extends Enum<E>> E enumValue(Class<E> type) throws RecipeException {
        List<String> names = Arrays.stream(type.getEnumConstants()).map(RecipeConfig::lower).toList();
        String expectation = "one of " + String.join(", ", names);
        String v = scalar(expectation).getValue();
        for (E e : type.getEnumConstants()) if (RecipeConfig.lower(e).equals(v.toLowerCase(Locale.ROOT))) return e;
        throw new RecipeException(where() + key + " must be " + expectation + ", got '" + v + "'" + ClosestKey.hint(v, names));
    }

    /** A path resolved against {@code baseDir} and normalised. */
    Path path(Path baseDir) throws RecipeException {
        String v = scalar("a path").getValue();
        if (v.isBlank()) throw error("a non-empty path");
        try {
            return baseDir.resolve(v).toAbsolutePath().normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new RecipeException(where() + key + " is not a valid path: " + e.getMessage());
        }
    }

    List<YamlField> items(String expectation) throws RecipeException {
        if (!(node instanceof SequenceNode seq)) throw error(expectation);
        List<YamlField> out = new ArrayList<>();
        for (int i = 0; i < seq.getValue().size(); i++) out.add(new YamlField(key + "[" + i + "]", seq.getValue().get(i), source));
        return out;
    }

    boolean isSequence() {
        return node instanceof SequenceNode;
    }

    boolean isMapping() {
        return node instanceof MappingNode;
    }

    boolean isScalarOfTag(Tag tag) {
        return node instanceof ScalarNode s && s.getTag().equals(tag);
    }

    /** A short rendering of a node for error messages. */
    static String describe(Node n) {
        return switch (n) {
            case ScalarNode s when s.getTag().equals(Tag.NULL) -> "nothing (null)";
            case ScalarNode s -> (s.getTag().equals(Tag.STR) ? "'" + abbreviate(s.getValue()) + "'" : abbreviate(s.getValue()));
            case SequenceNode q -> "a list of " + q.getValue().size();
            case MappingNode m -> "a mapping";
            default -> n.getNodeId().toString();
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
