package org.jtune.train.checkpoint;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * manifest.json of a checkpoint folder: the step and every file with its size and SHA-256. It is
 * written last, so a folder without one is incomplete; {@link #verify(Path)} re-hashes each file
 * and names the first that is missing, of the wrong size, or changed.
 */
public record CheckpointManifest(long step, String created, List<FileEntry> files) {
    public static final String FILE_NAME = "manifest.json";
    public static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public CheckpointManifest {
        files = List.copyOf(files);
    }

    public FileEntry entry(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT).put("step", step).put("created", created);
        var arr = o.putArray("files");
        for (FileEntry f : files) arr.addObject().put("name", f.name()).put("bytes", f.bytes()).put("sha256", f.sha256());
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads {@code dir}/manifest.json. */
    public static CheckpointManifest read(Path dir) throws CheckpointException {
        Path file = dir.resolve(FILE_NAME);
        JsonNode o;
        try {
            o = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(dir + " is not a complete checkpoint: " + FILE_NAME + " is missing (the save was interrupted?)");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            if (o == null || o.path("format").asInt(-1) != FORMAT) throw new IllegalArgumentException("unsupported or missing format");
            if (!o.path("step").canConvertToExactIntegral()) throw new IllegalArgumentException("missing step");
            List<FileEntry> files = new ArrayList<>();
            for (JsonNode f : o.path("files")) {
                if (!f.path("bytes").canConvertToExactIntegral()) throw new IllegalArgumentException("file entry without bytes: " + f);
                files.add(new FileEntry(f.path("name").asText(null), f.get("bytes").longValue(), f.path("sha256").asText(null)));
            }
            return new CheckpointManifest(o.get("step").longValue(), o.path("created").asText(""), files);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": malformed manifest: " + e.getMessage());
        }
    }

    /** Checks every listed file of {@code dir} against its size and SHA-256. */
    public void verify(Path dir) throws CheckpointException {
        for (FileEntry f : files) {
            Path p = dir.resolve(f.name());
            try {
                if (!Files.isRegularFile(p)) throw new CheckpointException(p + " is missing (listed in " + FILE_NAME + ")");
                long size = Files.size(p);
                if (size != f.bytes()) {
                    throw new CheckpointException(p + " has " + size + " bytes but " + FILE_NAME + " records " + f.bytes() + " (truncated or changed)");
                }
                String sha = AtomicFile.sha256(p);
                if (!sha.equals(f.sha256())) {
                    throw new CheckpointException(p + " is corrupt: SHA-256 " + sha + " differs from " + f.sha256() + " recorded in " + FILE_NAME);
                }
            } catch (IOException e) {
                throw new CheckpointException(p + ": cannot read: " + e.getMessage(), e);
            }
        }
    }
}
