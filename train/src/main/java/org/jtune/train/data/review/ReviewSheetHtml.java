package org.jtune.train.data.review;

import org.jtune.io.HtmlText;
import java.util.List;

/**
 * The HTML view of a review sheet: one self-contained page (no scripts, no external files) with a
 * table of the rows to review, line breaks kept, and a reminder of how to mark the CSV. It is for
 * reading; the marks go into the CSV.
 */
final class ReviewSheetHtml {
    private ReviewSheetHtml() {}

    static String render(String title, String csvName, List<ReviewSheet.Row> rows) {
        boolean candidates = rows.stream().anyMatch(r -> r.kind() == ReviewSheet.Kind.CANDIDATE);
        boolean context = rows.stream().anyMatch(r -> !r.context().isEmpty());
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(HtmlText.escape(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n")
                .append("table{border-collapse:collapse;width:100%}\n")
                .append("th,td{border:1px solid #ccc;padding:.35em .5em;vertical-align:top;text-align:left}\n")
                .append("th{background:#f3f3f3;position:sticky;top:0}\n")
                .append("td.text{white-space:pre-wrap;max-width:40em}\n")
                .append("td.num{font-variant-numeric:tabular-nums;color:#666}\n")
                .append("tr.candidate td{background:#fbfbf0}\n")
                .append("</style></head><body>\n<h1>").append(HtmlText.escape(title)).append("</h1>\n<p>")
                .append(rows.size()).append(" rows. Mark them in <code>").append(HtmlText.escape(csvName))
                .append("</code>: column <b>action</b> = keep, drop, fix (fill corrected_input and/or corrected_answer) or ")
                .append("relabel (fill new_label); a blank action keeps a row")
                .append(candidates ? " and does not add a candidate (keep or fix adds it)" : "")
                .append(". Then run <code>jtune data apply-review</code>.</p>\n<table>\n<thead><tr><th>#</th><th>line</th>")
                .append(candidates ? "<th>kind</th>" : "")
                .append(context ? "<th>context</th>" : "")
                .append("<th>input</th>")
                .append(candidates ? "<th>paraphrases</th>" : "")
                .append("<th>answer</th></tr></thead>\n<tbody>\n");
        int i = 0;
        for (ReviewSheet.Row r : rows) {
            i++;
            sb.append("<tr").append(r.kind() == ReviewSheet.Kind.CANDIDATE ? " class=\"candidate\"" : "").append('>')
                    .append("<td class=\"num\">").append(i).append("</td><td class=\"num\">").append(r.line()).append("</td>");
            if (candidates) sb.append("<td>").append(r.kind().id()).append("</td>");
            if (context) sb.append("<td class=\"text\">").append(HtmlText.escape(r.context())).append("</td>");
            sb.append("<td class=\"text\">").append(HtmlText.escape(r.input())).append("</td>");
            if (candidates) sb.append("<td class=\"text\">").append(HtmlText.escape(r.sourceInput())).append("</td>");
            sb.append("<td class=\"text\">").append(HtmlText.escape(r.answer())).append("</td></tr>\n");
        }
        return sb.append("</tbody></table>\n</body></html>\n").toString();
    }
}
