package org.jtune.train.data.convert;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds the delimiter of a delimited text file and says why. A first line {@code sep=X} (the hint
 * spreadsheet programs write) names it and is skipped. Otherwise each candidate (comma, tab,
 * semicolon, pipe; tab first for .tsv/.tab files) parses the first {@value #SAMPLE} records with
 * {@link CsvParser}; a candidate scores when its header has at least two fields, by the number of
 * sampled records with exactly as many fields, minus those it cannot read. The best score wins, the
 * earlier candidate on a tie. A file where no candidate gives two fields has one column.
 *
 * @param delimiter  the field delimiter
 * @param skipOffset characters before the first record (a {@code sep=} line)
 * @param skipLines  physical lines before the first record
 * @param how        how the delimiter was chosen, for the report
 */
public record CsvDialect(char delimiter, int skipOffset, int skipLines, String how) {
    static final int SAMPLE = 50;

    /** The delimiter given on the command line. */
    public static CsvDialect given(char delimiter) {
        return new CsvDialect(delimiter, 0, 0, "given");
    }

    public static CsvDialect detect(String text, boolean tabFirst) {
        if (text.regionMatches(true, 0, "sep=", 0, 4) && text.length() >= 5) {
            int end = 5;
            while (end < text.length() && text.charAt(end) != '\n' && text.charAt(end) != '\r') end++;
            if (end == 5) {
                int skip = end;
                if (skip < text.length() && text.charAt(skip) == '\r') skip++;
                if (skip < text.length() && text.charAt(skip) == '\n') skip++;
                return new CsvDialect(text.charAt(4), skip, 1, "from the sep= line");
            }
        }
        List<Character> candidates = new ArrayList<>(List.of(',', '\t', ';', '|'));
        if (tabFirst) {
            candidates.remove(Character.valueOf('\t'));
            candidates.addFirst('\t');
        }
        char best = candidates.getFirst();
        int bestScore = Integer.MIN_VALUE;
        String bestHow = "one column: no delimiter splits the header";
        for (char c : candidates) {
            CsvParser parser = new CsvParser(text, c);
            CsvParser.Record header = parser.next();
            if (header == null || !header.ok() || header.fields().size() < 2) continue;
            int width = header.fields().size();
            int sampled = 0;
            int matching = 0;
            int broken = 0;
            CsvParser.Record r;
            while (sampled < SAMPLE && (r = parser.next()) != null) {
                sampled++;
                if (!r.ok()) broken++;
                else if (r.fields().size() == width) matching++;
            }
            int score = matching - broken;
            if (score > bestScore) {
                bestScore = score;
                best = c;
                bestHow = String.format(Locale.ROOT, "detected: the header has %d fields, %d of the next %d records too",
                        width, matching, sampled);
            }
        }
        return new CsvDialect(best, 0, 0, bestHow);
    }

    /** The delimiter as people write it: ',' or TAB. */
    public String delimiterName() {
        return switch (delimiter) {
            case '\t' -> "TAB";
            case ' ' -> "SPACE";
            default -> "'" + delimiter + "'";
        };
    }
}
