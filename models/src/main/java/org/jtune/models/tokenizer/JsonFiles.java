package org.jtune.models.tokenizer;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.JtuneException;

/** Reads the JSON files of a model folder, turning every failure into a JtuneException that names the file. */
public final class JsonFiles {
    private JsonFiles() {}

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The parsed file; a JtuneException naming the file (and line/column for syntax errors) otherwise. */
    public static JsonNode read(Path file) throws JtuneException {
        try {
            JsonNode node = MAPPER.readTree(file.toFile());
            if (node == null || node.isMissingNode()) throw new JtuneException(file + ": empty file, expected a JSON object");
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new JtuneException(file + ": not valid JSON" + where + " (" + e.getOriginalMessage()
                    + "); the file may be truncated or corrupt — download it again", e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The parsed file when it exists, else null. */
    public static JsonNode readIfPresent(Path file) throws JtuneException {
        return Files.isRegularFile(file) ? read(file) : null;
    }
}
