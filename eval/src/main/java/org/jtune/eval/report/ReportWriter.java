package org.jtune.eval.report;

import org.jtune.io.AtomicFile;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.GateResult;

/** Writes metrics.json and eval_report.html into a folder, each atomically (temporary file, then rename). */
public final class ReportWriter {
    public static final String METRICS = "metrics.json";
    public static final String REPORT = "eval_report.html";

    private ReportWriter() {
    }

    public static void write(Path dir, String title, EvalResult result, Comparison cmp, GateResult gate)
            throws JtuneException {
        AtomicFile.writeString(dir.resolve(METRICS), MetricsJson.pretty(MetricsJson.of(result, cmp, gate)));
        AtomicFile.writeString(dir.resolve(REPORT), HtmlReport.render(title, result, cmp, gate));
    }
}
