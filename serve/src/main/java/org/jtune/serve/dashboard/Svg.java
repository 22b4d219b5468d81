package org.jtune.serve.dashboard;

import org.jtune.io.HtmlText;
import java.util.List;
import java.util.Locale;

/**
 * Inline SVG charts for the dashboard (no script, no external file): bars of a count series and lines
 * of one or more value series over the same buckets, with the axis maximum and the first and last
 * bucket labels. Missing values (NaN) break a line.
 */
final class Svg {
    static final int W = 560, H = 160, PAD = 30;

    private Svg() {}

    static String bars(String id, String title, double[] values, String first, String last) {
        StringBuilder sb = open(id, title, max(values), first, last);
        double max = Math.max(1e-9, max(values));
        double bw = (double) (W - 2 * PAD) / Math.max(1, values.length);
        for (int i = 0; i < values.length; i++) {
            double h = (H - 2 * PAD) * values[i] / max;
            sb.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s</title></rect>",
                    PAD + i * bw + 1, H - PAD - h, Math.max(1, bw - 2), h, fmt(values[i])));
        }
        return sb.append("</svg>").toString();
    }

    record Line(String name, String cssClass, double[] values) {}

    static String lines(String id, String title, List<Line> lines, String first, String last) {
        double max = 0;
        for (Line l : lines) max = Math.max(max, max(l.values()));
        StringBuilder sb = open(id, title, max, first, last);
        max = Math.max(1e-9, max);
        for (Line l : lines) {
            int n = l.values().length;
            double step = (double) (W - 2 * PAD) / Math.max(1, n - 1);
            StringBuilder path = new StringBuilder();
            boolean pen = false;
            for (int i = 0; i < n; i++) {
                double v = l.values()[i];
                if (Double.isNaN(v)) {
                    pen = false;
                    continue;
                }
                path.append(String.format(Locale.ROOT, "%s%.1f,%.1f ", pen ? "L" : "M", PAD + i * step, H - PAD - (H - 2 * PAD) * v / max));
                pen = true;
            }
            sb.append("<path class=\"").append(l.cssClass()).append("\" d=\"").append(path.toString().strip()).append("\"><title>")
                    .append(HtmlText.escape(l.name())).append("</title></path>");
        }
        int x = W - PAD - 120;
        for (int i = 0; i < lines.size(); i++) {
            sb.append(String.format(Locale.ROOT, "<text class=\"legend %s\" x=\"%d\" y=\"%d\">%s</text>", lines.get(i).cssClass(), x, 14 + 12 * i,
                    HtmlText.escape(lines.get(i).name())));
        }
        return sb.append("</svg>").toString();
    }

    private static StringBuilder open(String id, String title, double max, String first, String last) {
        StringBuilder sb = new StringBuilder();
        sb.append("<svg id=\"").append(id).append("\" class=\"chart\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" width=\"").append(W).append("\" height=\"").append(H).append("\" role=\"img\" aria-label=\"").append(HtmlText.escape(title)).append("\">");
        sb.append("<text class=\"title\" x=\"").append(PAD).append("\" y=\"14\">").append(HtmlText.escape(title)).append("</text>");
        sb.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PAD, H - PAD, W - PAD, H - PAD));
        sb.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PAD, PAD, PAD, H - PAD));
        sb.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"2\" y=\"%d\">%s</text>", PAD + 4, fmt(max)));
        sb.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%d\" y=\"%d\">%s</text>", PAD, H - 8, HtmlText.escape(first)));
        sb.append(String.format(Locale.ROOT, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", W - PAD, H - 8, HtmlText.escape(last)));
        return sb;
    }

    static double max(double[] v) {
        double m = 0;
        for (double x : v) if (!Double.isNaN(x)) m = Math.max(m, x);
        return m;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "-";
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
