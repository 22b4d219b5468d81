package org.jtune.train.data.convert;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One record of a source file: the physical line it starts on and its fields by column name, or
 * the reason it could not be read. JSON records are flattened: a nested object's fields are named
 * with dots ("ticket.body"); numbers and booleans become their text; a null is absent; a field that
 * holds an array (or an object, under its own name) is kept in {@code notText} with its JSON type, so
 * that mapping it to a role can say so.
 */
public record SourceRow(long line, Map<String, String> fields, Map<String, String> notText, String error) {
    public SourceRow {
        fields = fields == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        notText = notText == null ? Map.of() : Map.copyOf(notText);
    }

    public static SourceRow of(long line, Map<String, String> fields, Map<String, String> notText) {
        return new SourceRow(line, fields, notText, null);
    }

    public static SourceRow broken(long line, String error) {
        return new SourceRow(line, null, null, error);
    }

    public boolean ok() {
        return error == null;
    }
}
