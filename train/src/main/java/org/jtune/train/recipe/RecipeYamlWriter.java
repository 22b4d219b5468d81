package org.jtune.train.recipe;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Writes a {@link RecipeConfig} as YAML: every key in record order (nulls left out, since they are
 * the "not set" defaults), enums in lower case, paths absolute. {@link RecipeReader} reads the
 * output back to an equal record; this is the copy saved in a run folder.
 */
final class RecipeYamlWriter {
    private RecipeYamlWriter() {}

    static String write(RecipeConfig c) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (var comp : RecipeConfig.class.getRecordComponents()) {
            Object v;
            try {
                v = comp.getAccessor().invoke(c);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            Object plain = plain(v);
            if (plain != null) map.put(RecipeConfig.keyOf(comp.getName()), plain);
        }
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndent(2);
        o.setIndicatorIndent(0);
        o.setWidth(120);
        o.setSplitLines(false);
        return "# Resolved jtune recipe: every setting of this run, defaults included.\n" + new Yaml(o).dump(map);
    }

    private static Object plain(Object v) {
        return switch (v) {
            case null -> null;
            case Path p -> p.toString();
            case Enum<?> e -> RecipeConfig.lower(e);
            case DatasetSpec d -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("path", d.path().toString());
                m.put("type", d.type().yamlName());
                if (d.split() != null) m.put("split", d.split());
                yield m;
            }
            case TokenIndices t -> {
                if (t.isEmpty()) yield null;
                List<Object> items = new ArrayList<>(t.ids());
                items.addAll(t.names());
                yield items;
            }
            case List<?> l when l.equals(List.of(RecipeConfig.ALL_LINEAR)) -> RecipeConfig.ALL_LINEAR;
            case List<?> l -> l.stream().map(RecipeYamlWriter::plain).toList();
            default -> v; // String, Integer, Long, Double, Boolean
        };
    }
}
