package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.data.convert.ConvertOptions;
import org.jtune.train.data.convert.ConvertReport;
import org.jtune.train.data.convert.DataConvert;
import org.jtune.train.data.convert.FieldTemplate;
import org.jtune.train.data.convert.SourceTable;
import org.jtune.train.data.convert.TargetFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `jtune data convert`: a CSV/TSV/JSON/JSONL export into chat, completion or Alpaca JSONL (see
 * DataConvert). Exit 0 when the output was written (rejected rows are listed on stderr), 1 when
 * nothing was written because rows were rejected (--strict, or none converted), 2 when the
 * conversion could not run (a missing file, an unknown column, a bad option).
 */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Convert a CSV/TSV/JSON/JSONL export into chat, completion or Alpaca JSONL.",
                "The encoding (UTF-8 with or without BOM, UTF-16 with BOM, else Latin-1) and the delimiter are detected "
                        + "and reported; quoted fields follow RFC 4180 (delimiters, line breaks and doubled quotes inside quotes). "
                        + "Rows that cannot be converted are listed as FILE:LINE (the line the record starts on) with the reason, "
                        + "and written nowhere. The output is written to a temporary file and renamed.",
                "Example: jtune data convert --input train.csv --to chat --user-column text --assistant-column category "
                        + "--system \"Classify the banking query.\" --out train.jsonl"})
final class DataConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The source: .csv, .tsv, .json (an array of objects) or .jsonl.")
    Path input;

    @Option(names = "--to", required = true, paramLabel = "FORMAT", description = "chat, completion or alpaca.")
    String to;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSONL file to write.")
    Path out;

    @Option(names = "--user-column", paramLabel = "COLUMN", description = "Column holding the user text (Alpaca: instruction; completion: prompt).")
    String userColumn;

    @Option(names = "--user-template", paramLabel = "TEXT",
            description = "Template for the user text instead of one column, e.g. \"Ticket: {subject}\\n{body}\" ({{ and }} for braces).")
    String userTemplate;

    @Option(names = "--assistant-column", paramLabel = "COLUMN", description = "Column holding the answer (the label of a classification task).")
    String assistantColumn;

    @Option(names = "--assistant-template", paramLabel = "TEXT", description = "Template for the answer instead of one column.")
    String assistantTemplate;

    @Option(names = "--system", paramLabel = "TEXT", description = "The same system prompt on every row (chat, alpaca).")
    String system;

    @Option(names = "--system-column", paramLabel = "COLUMN", description = "Column holding a per-row system prompt.")
    String systemColumn;

    @Option(names = "--system-template", paramLabel = "TEXT", description = "Template for a per-row system prompt.")
    String systemTemplate;

    @Option(names = "--input-column", paramLabel = "COLUMN", description = "Alpaca only: column for the \"input\" field (optional per row).")
    String inputColumn;

    @Option(names = "--input-template", paramLabel = "TEXT", description = "Alpaca only: template for the \"input\" field.")
    String inputTemplate;

    @Option(names = "--input-format", paramLabel = "KIND", description = "csv, json or jsonl (default: from the file name and content; .tsv is csv with tabs).")
    String inputFormat;

    @Option(names = "--encoding", paramLabel = "CHARSET", description = "The source's encoding (default: detected).")
    String encoding;

    @Option(names = "--delimiter", paramLabel = "CHAR", description = "The field delimiter: a character, or tab (default: detected among , TAB ; |).")
    String delimiter;

    @Option(names = "--no-header", description = "The delimited file has no header row; name columns 1, 2, ...")
    boolean noHeader;

    @Option(names = "--keep-whitespace", description = "Keep leading and trailing whitespace of values (default: strip it).")
    boolean keepWhitespace;

    @Option(names = "--strict", description = "Write nothing (exit 1) when any row cannot be converted.")
    boolean strict;

    @Option(names = "--max-issues", paramLabel = "N", defaultValue = "50", description = "List at most N rejected rows (all are counted; default ${DEFAULT-VALUE}).")
    int maxIssues;

    @Option(names = "--json", description = "Also print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ConvertReport report;
        try {
            TargetFormat format = TargetFormat.fromId(to)
                    .orElseThrow(() -> new JtuneException("--to " + to + ": expected chat, completion or alpaca"));
            var b = ConvertOptions.builder(input, out, format)
                    .user(ConvertOptions.role(userColumn, userTemplate, "--user-column/--user-template", true))
                    .assistant(ConvertOptions.role(assistantColumn, assistantTemplate, "--assistant-column/--assistant-template", true))
                    .alpacaInput(ConvertOptions.role(inputColumn, inputTemplate, "--input-column/--input-template", false))
                    .header(!noHeader).strip(!keepWhitespace).strict(strict).encoding(encoding);
            int systems = (system != null ? 1 : 0) + (systemColumn != null ? 1 : 0) + (systemTemplate != null ? 1 : 0);
            if (systems > 1) throw new JtuneException("give one of --system, --system-column, --system-template");
            if (system != null) b.system(FieldTemplate.literal(system));
            else b.system(ConvertOptions.role(systemColumn, systemTemplate, "--system-column/--system-template", false));
            if (inputFormat != null) {
                SourceTable.Kind kind = switch (inputFormat.toLowerCase(java.util.Locale.ROOT)) {
                    case "csv", "tsv" -> SourceTable.Kind.CSV;
                    case "json" -> SourceTable.Kind.JSON;
                    case "jsonl", "ndjson" -> SourceTable.Kind.JSONL;
                    default -> throw new JtuneException("--input-format " + inputFormat + ": expected csv, json or jsonl");
                };
                b.kind(kind);
                if (inputFormat.equalsIgnoreCase("tsv") && delimiter == null) b.delimiter('\t');
            }
            if (delimiter != null) b.delimiter(delimiter(delimiter));
            if (maxIssues < 0) throw new JtuneException("--max-issues must be >= 0");
            report = DataConvert.run(b.build());
        } catch (JtuneException e) {
            err.println("jtune data convert: " + e.getMessage());
            err.flush();
            return 2;
        }
        err.print(report.text(maxIssues));
        err.flush();
        if (json) {
            spec.commandLine().getOut().println(report.json(maxIssues));
            spec.commandLine().getOut().flush();
        }
        return report.written() ? 0 : 1;
    }

    private static char delimiter(String d) throws JtuneException {
        return switch (d.toLowerCase(java.util.Locale.ROOT)) {
            case "tab", "\\t", "\t" -> '\t';
            case "comma" -> ',';
            case "semicolon" -> ';';
            case "pipe" -> '|';
            default -> {
                if (d.length() != 1 || d.equals("\"") || d.equals("\n") || d.equals("\r")) {
                    throw new JtuneException("--delimiter " + d + ": expected one character (or tab)");
                }
                yield d.charAt(0);
            }
        };
    }
}
