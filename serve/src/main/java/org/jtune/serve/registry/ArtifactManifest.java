package org.jtune.serve.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jtune.JtuneException;

/**
 * The files of a folder artifact (an adapter, a model) with their SHA-256 and sizes, sorted by path
 * ('/' separators). The artifact's own hash is the SHA-256 of the lines {@code "<sha256> <size> <path>\n"}
 * in that order, so the same files give the same hash wherever the folder lies.
 */
public record ArtifactManifest(List<Entry> files) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Entry(String path, String sha256, long size) {}

    public ArtifactManifest {
        files = files.stream().sorted(Comparator.comparing(Entry::path)).toList();
    }

    /** Hashes every regular file under {@code dir} (hidden files and folders left out). */
    public static ArtifactManifest of(Path dir) throws JtuneException {
        if (!Files.isDirectory(dir)) throw new JtuneException(dir + ": not a folder");
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                Path rel = dir.relativize(p);
                boolean hidden = false;
                for (Path part : rel) hidden |= part.toString().startsWith(".");
                if (hidden) continue;
                entries.add(new Entry(rel.toString().replace('\\', '/'), Sha256.of(p), Files.size(p)));
            }
        } catch (IOException e) {
            throw new JtuneException("cannot hash the files of " + dir + ": " + e.getMessage(), e);
        }
        if (entries.isEmpty()) throw new JtuneException(dir + ": no files to register");
        return new ArtifactManifest(entries);
    }

    public String sha256() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : files) sb.append(e.sha256()).append(' ').append(e.size()).append(' ').append(e.path()).append('\n');
        return Sha256.of(sb.toString());
    }

    public long bytes() {
        return files.stream().mapToLong(Entry::size).sum();
    }

    public ArrayNode toJson() {
        ArrayNode a = JSON.createArrayNode();
        for (Entry e : files) a.addObject().put("path", e.path()).put("sha256", e.sha256()).put("size", e.size());
        return a;
    }

    public static ArtifactManifest fromJson(JsonNode a) {
        List<Entry> out = new ArrayList<>();
        for (JsonNode e : a) out.add(new Entry(e.get("path").asText(), e.get("sha256").asText(), e.get("size").asLong()));
        return new ArtifactManifest(out);
    }
}
