package org.jtune.eval.human;

import org.jtune.io.HtmlText;
import org.jtune.io.AtomicFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.report.HtmlReport;

/**
 * Exports a blind A/B rating sheet from two prediction lists over the same examples (matched by id): the
 * items in a shuffled order, and in each item the two answers on randomly chosen sides, both drawn from
 * java.util.SplittableRandom(seed). Writes into a folder:
 * <ul>
 * <li>{@code sheet.csv}: item, input, reference, response_1, response_2, preference (to fill: 1, 2 or tie),
 *     comment — for spreadsheets;
 * <li>{@code sheet.html}: the same as a self-contained form (rubric on top, radio buttons per item; a
 *     button saves the filled ratings as a CSV with item, preference, comment, rater);
 * <li>{@code key.csv}: item, id, response_1, response_2 (which system is on which side) — kept by the
 *     organiser, never shown to raters.
 * </ul>
 */
public final class BlindPairSheet {
    public static final String SHEET_CSV = "sheet.csv";
    public static final String SHEET_HTML = "sheet.html";
    public static final String KEY_CSV = "key.csv";
    public static final String DEFAULT_RUBRIC = """
            For each item, read the input (and the reference answer, if shown) and the two responses.
            Choose the response that answers better: correct, complete, faithful to the input, and clear.
            Choose "tie" only when neither is better. The order of the responses is random.""";

    private BlindPairSheet() {
    }

    public record Item(int item, Prediction baseline, Prediction candidate, boolean candidateFirst) {
    }

    /** The items in sheet order with their sides; deterministic for a seed. */
    public static List<Item> layout(List<Prediction> baseline, List<Prediction> candidate, long seed)
            throws JtuneException {
        java.util.Map<String, Prediction> byId = new java.util.HashMap<>();
        for (Prediction p : baseline) byId.put(p.id(), p);
        if (baseline.size() != candidate.size()) {
            throw new JtuneException("the two prediction files differ in size: " + baseline.size() + " and "
                    + candidate.size() + " records; a rating sheet pairs answers to the same examples");
        }
        int n = candidate.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        List<Item> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Prediction c = candidate.get(order[i]);
            Prediction b = byId.get(c.id());
            if (b == null) throw new JtuneException(c.where() + ": id '" + c.id() + "' has no answer in the other file");
            items.add(new Item(i + 1, b, c, random.nextBoolean()));
        }
        return items;
    }

    public static void export(List<Prediction> baseline, List<Prediction> candidate, String rubric, long seed,
                              Path dir) throws JtuneException {
        List<Item> items = layout(baseline, candidate, seed);
        StringBuilder sheet = new StringBuilder(Csv.row(List.of("item", "input", "reference", "response_1",
                "response_2", "preference", "comment")));
        StringBuilder key = new StringBuilder(Csv.row(List.of("item", "id", "response_1", "response_2")));
        for (Item it : items) {
            Prediction first = it.candidateFirst ? it.candidate : it.baseline;
            Prediction second = it.candidateFirst ? it.baseline : it.candidate;
            sheet.append(Csv.row(List.of(String.valueOf(it.item), it.candidate.input(), it.candidate.reference(),
                    first.prediction(), second.prediction(), "", "")));
            key.append(Csv.row(List.of(String.valueOf(it.item), it.candidate.id(),
                    it.candidateFirst ? "candidate" : "baseline", it.candidateFirst ? "baseline" : "candidate")));
        }
        AtomicFile.writeString(dir.resolve(SHEET_CSV), sheet.toString());
        AtomicFile.writeString(dir.resolve(KEY_CSV), key.toString());
        AtomicFile.writeString(dir.resolve(SHEET_HTML), html(items, rubric == null ? DEFAULT_RUBRIC : rubric));
    }

    private static String html(List<Item> items, String rubric) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Rating sheet</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
                + ".item{border:1px solid #ccc;padding:1em;margin:1em 0}.pair{display:flex;gap:1em}"
                + ".pair div{flex:1;background:#f7f7f7;padding:.5em;white-space:pre-wrap}"
                + ".rubric{white-space:pre-wrap;background:#fffbe6;padding:1em}</style></head><body>\n"
                + "<h1>Rating sheet</h1>\n<div class=\"rubric\">");
        h.append(HtmlText.escape(rubric)).append("</div>\n<p>Your name: <input id=\"rater\"></p>\n<form id=\"f\">\n");
        for (Item it : items) {
            Prediction first = it.candidateFirst ? it.candidate : it.baseline;
            Prediction second = it.candidateFirst ? it.baseline : it.candidate;
            int n = it.item;
            h.append("<div class=\"item\"><h3>Item ").append(n).append("</h3>\n<p><b>Input</b></p><div style=\"white-space:pre-wrap\">")
                    .append(HtmlText.escape(it.candidate.input())).append("</div>\n");
            if (!it.candidate.reference().isBlank()) {
                h.append("<p><b>Reference</b></p><div style=\"white-space:pre-wrap\">")
                        .append(HtmlText.escape(it.candidate.reference())).append("</div>\n");
            }
            h.append("<div class=\"pair\"><div><b>Response 1</b>\n").append(HtmlText.escape(first.prediction()))
                    .append("</div><div><b>Response 2</b>\n").append(HtmlText.escape(second.prediction()))
                    .append("</div></div>\n<p>");
            for (String v : List.of("1", "2", "tie")) {
                h.append("<label><input type=\"radio\" name=\"p").append(n).append("\" value=\"").append(v).append("\"> ")
                        .append(v.equals("tie") ? "tie" : "response " + v).append("</label> ");
            }
            h.append("<br>Comment: <input name=\"c").append(n).append("\" size=\"80\"></p></div>\n");
        }
        h.append("</form>\n<button onclick=\"save()\">Save ratings as CSV</button>\n<script>\n")
                .append("function q(s){s=String(s);return /[\",\\r\\n]/.test(s)?'\"'+s.replace(/\"/g,'\"\"')+'\"':s}\n")
                .append("function save(){const f=document.getElementById('f');const r=document.getElementById('rater').value;")
                .append("let out='item,preference,comment,rater\\r\\n';for(let i=1;i<=").append(items.size()).append(";i++){")
                .append("const p=f.querySelector('input[name=p'+i+']:checked');const c=f.elements['c'+i].value;")
                .append("out+=[i,p?p.value:'',c,r].map(q).join(',')+'\\r\\n';}")
                .append("const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([out],{type:'text/csv'}));")
                .append("a.download='ratings_'+(r||'rater')+'.csv';a.click();}\n</script>\n</body></html>\n");
        return h.toString();
    }
}
