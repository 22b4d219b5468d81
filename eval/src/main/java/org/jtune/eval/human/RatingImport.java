package org.jtune.eval.human;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * Reads the key written by {@link BlindPairSheet} and the filled sheets of several raters (either the full
 * sheet.csv or the CSV saved from sheet.html; what matters is an {@code item} and a {@code preference}
 * column, and optionally {@code rater}), maps "1"/"2"/"tie" back to candidate/baseline/tie, and computes the
 * win rate and agreement ({@link HumanEvalResult}). A rater's name is the {@code rater} column when filled,
 * else the file name. Unknown items, unknown preference values and a rater rating one item twice are bad
 * input naming file:line; an empty preference counts as unrated.
 */
public final class RatingImport {
    private static final String[] CATEGORIES = {"candidate", "baseline", "tie"};

    private RatingImport() {
    }

    public static HumanEvalResult read(Path keyFile, List<Path> sheets) throws JtuneException {
        if (sheets.isEmpty()) throw new JtuneException("no rating sheets given");
        List<Csv.Row> key = Csv.parse(read(keyFile), keyFile.toString());
        Map<String, Integer> keyCols = header(key, keyFile, "item", "id", "response_1");
        Map<String, Integer> itemIndex = new HashMap<>();
        List<String> ids = new ArrayList<>();
        List<Boolean> candidateFirst = new ArrayList<>();
        for (Csv.Row r : key.subList(1, key.size())) {
            String side = field(r, keyCols.get("response_1"));
            if (!side.equals("candidate") && !side.equals("baseline")) {
                throw new JtuneException(keyFile + ":" + r.line() + ": response_1 must be candidate or baseline, got '" + side + "'");
            }
            itemIndex.put(field(r, keyCols.get("item")).strip(), ids.size());
            ids.add(field(r, keyCols.get("id")));
            candidateFirst.add(side.equals("candidate"));
        }
        List<String> raters = new ArrayList<>();
        List<List<String>> prefs = new ArrayList<>();
        for (Path sheet : sheets) {
            List<Csv.Row> rows = Csv.parse(read(sheet), sheet.toString());
            Map<String, Integer> cols = header(rows, sheet, "item", "preference");
            String[] mine = new String[ids.size()];
            String rater = null;
            for (Csv.Row r : rows.subList(1, rows.size())) {
                String where = sheet + ":" + r.line();
                Integer item = itemIndex.get(field(r, cols.get("item")).strip());
                if (item == null) throw new JtuneException(where + ": item '" + field(r, cols.get("item")) + "' is not in the key " + keyFile);
                String p = field(r, cols.get("preference")).strip().toLowerCase(Locale.ROOT);
                if (cols.containsKey("rater") && !field(r, cols.get("rater")).isBlank()) rater = field(r, cols.get("rater")).strip();
                if (p.isEmpty()) continue;
                String pref = switch (p) {
                    case "1", "response 1", "response_1" -> candidateFirst.get(item) ? "candidate" : "baseline";
                    case "2", "response 2", "response_2" -> candidateFirst.get(item) ? "baseline" : "candidate";
                    case "tie", "0", "=" -> "tie";
                    default -> throw new JtuneException(where + ": preference must be 1, 2 or tie, got '" + p + "'");
                };
                if (mine[item] != null) throw new JtuneException(where + ": item " + field(r, cols.get("item")) + " rated twice in this sheet");
                mine[item] = pref;
            }
            String name = rater != null ? rater : sheet.getFileName().toString().replaceFirst("\\.csv$", "");
            if (raters.contains(name)) name = name + "#" + (raters.size() + 1);
            raters.add(name);
            prefs.add(Arrays.asList(mine));
        }
        return summarise(raters, ids, prefs);
    }

    static HumanEvalResult summarise(List<String> raters, List<String> ids, List<List<String>> prefs) {
        long wins = 0, losses = 0, ties = 0, unrated = 0;
        for (List<String> r : prefs) {
            for (String p : r) {
                if (p == null) unrated++;
                else if (p.equals("candidate")) wins++;
                else if (p.equals("baseline")) losses++;
                else ties++;
            }
        }
        long rated = wins + losses + ties;
        double cohen = prefs.size() == 2 ? CohenKappa.of(prefs.get(0), prefs.get(1)) : Double.NaN;
        List<long[]> complete = new ArrayList<>();
        for (int u = 0; u < ids.size(); u++) {
            long[] row = new long[CATEGORIES.length];
            boolean all = true;
            for (List<String> r : prefs) {
                if (r.get(u) == null) all = false;
                else row[Arrays.asList(CATEGORIES).indexOf(r.get(u))]++;
            }
            if (all) complete.add(row);
        }
        double fleiss = prefs.size() >= 2 && !complete.isEmpty() ? FleissKappa.of(complete.toArray(new long[0][])) : Double.NaN;
        double alpha = KrippendorffAlpha.nominal(prefs);
        return new HumanEvalResult(raters, ids, prefs, wins, losses, ties, unrated,
                rated == 0 ? Double.NaN : (double) wins / rated,
                rated == 0 ? Double.NaN : (wins + 0.5 * ties) / rated, cohen, fleiss, alpha);
    }

    private static Map<String, Integer> header(List<Csv.Row> rows, Path file, String... required) throws JtuneException {
        if (rows.isEmpty()) throw new JtuneException(file + ": empty file");
        Map<String, Integer> cols = new HashMap<>();
        List<String> h = rows.get(0).fields();
        for (int i = 0; i < h.size(); i++) cols.put(h.get(i).strip().toLowerCase(Locale.ROOT), i);
        for (String r : required) {
            if (!cols.containsKey(r)) throw new JtuneException(file + ":1: missing column '" + r + "' (header: " + h + ")");
        }
        return cols;
    }

    private static String field(Csv.Row r, int col) {
        return col < r.fields().size() ? r.fields().get(col) : "";
    }

    private static String read(Path p) throws JtuneException {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JtuneException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
