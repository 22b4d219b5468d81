package org.jtune.train.data.convert;

import java.nio.file.Path;
import java.util.Objects;
import org.jtune.JtuneException;

/**
 * Settings of a conversion; build with {@link #builder}. Each default carries its reason.
 *
 * @param input     the source file
 * @param output    the JSONL file to write
 * @param to        the layout to write
 * @param user      the user text (Alpaca: the instruction; completion: the prompt)
 * @param assistant the answer
 * @param system    the system prompt, or null
 * @param alpacaInput Alpaca's input field, or null
 * @param kind      the source kind, or null to decide from the name and content
 * @param encoding  a charset name, or null to detect
 * @param delimiter the delimiter of delimited text, or null to detect
 * @param header    delimited text starts with a header record
 * @param strip     strip values of surrounding whitespace
 * @param strict    write nothing when any row cannot be converted
 */
public record ConvertOptions(Path input, Path output, TargetFormat to, FieldTemplate user, FieldTemplate assistant,
                             FieldTemplate system, FieldTemplate alpacaInput, SourceTable.Kind kind, String encoding,
                             Character delimiter, boolean header, boolean strip, boolean strict) {
    public ConvertOptions {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(assistant, "assistant");
    }

    public static Builder builder(Path input, Path output, TargetFormat to) {
        return new Builder(input, output, to);
    }

    /**
     * A role's text from a column name or a template (exactly one of them for a required role).
     *
     * @param option the option names for messages, e.g. "--user-column/--user-template"
     * @return null when neither is given and the role is optional
     */
    public static FieldTemplate role(String column, String template, String option, boolean required) throws JtuneException {
        if (column != null && template != null) throw new JtuneException(option + ": give the column or the template, not both");
        if (column != null) {
            if (column.isBlank()) throw new JtuneException(option + ": the column name is empty");
            return FieldTemplate.column(column);
        }
        if (template != null) return FieldTemplate.parse(template, option.substring(option.indexOf('/') + 1));
        if (required) throw new JtuneException(option + ": required (which column holds this text?)");
        return null;
    }

    public static final class Builder {
        private final Path input;
        private final Path output;
        private final TargetFormat to;
        private FieldTemplate user;
        private FieldTemplate assistant;
        private FieldTemplate system;
        private FieldTemplate alpacaInput;
        private SourceTable.Kind kind;
        private String encoding;
        private Character delimiter;
        /** Exports from spreadsheets and databases almost always carry a header. */
        private boolean header = true;
        /** Leading and trailing spaces and newlines in exported cells are noise, not signal. */
        private boolean strip = true;
        /** A few bad rows in a large export should not block the rest; they are all listed. */
        private boolean strict = false;

        private Builder(Path input, Path output, TargetFormat to) {
            this.input = input;
            this.output = output;
            this.to = to;
        }

        public Builder user(FieldTemplate t) { this.user = t; return this; }
        public Builder assistant(FieldTemplate t) { this.assistant = t; return this; }
        public Builder system(FieldTemplate t) { this.system = t; return this; }
        public Builder alpacaInput(FieldTemplate t) { this.alpacaInput = t; return this; }
        public Builder kind(SourceTable.Kind k) { this.kind = k; return this; }
        public Builder encoding(String e) { this.encoding = e; return this; }
        public Builder delimiter(Character d) { this.delimiter = d; return this; }
        public Builder header(boolean h) { this.header = h; return this; }
        public Builder strip(boolean s) { this.strip = s; return this; }
        public Builder strict(boolean s) { this.strict = s; return this; }

        public ConvertOptions build() throws JtuneException {
            if (system != null && !to.hasSystem()) {
                throw new JtuneException("--to " + to.id() + " has no system prompt; put the text into --user-template instead");
            }
            if (alpacaInput != null && !to.hasInput()) {
                throw new JtuneException("--input-column/--input-template is Alpaca's input field; it needs --to alpaca");
            }
            return new ConvertOptions(input, output, to, user, assistant, system, alpacaInput, kind, encoding, delimiter,
                    header, strip, strict);
        }
    }
}
