package org.jtune.train.report;

import org.jtune.io.HtmlText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A static SVG line chart for the run report: one or more series of (x, y) points on linear axes
 * with "nice" tick values (1, 2, 5 × 10^k), a legend, and no scripts. NaN or infinite points
 * break a line instead of being drawn; a series of one point is drawn as a dot.
 */
public final class SvgLineChart {
    public record Series(String name, String color, double[] x, double[] y) {
        public Series {
            if (!color.matches("#?[A-Za-z0-9]+")) throw new IllegalArgumentException("series " + name + ": bad color " + color);
            if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
        }
    }

    private static final int W = 720, H = 300, LEFT = 70, RIGHT = 20, TOP = 30, BOTTOM = 45;

    private SvgLineChart() {}

    public static String render(String title, String xLabel, String yLabel, List<Series> series) {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = xmin, ymax = xmax;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.x[i]) || !Double.isFinite(s.y[i])) continue;
                xmin = Math.min(xmin, s.x[i]);
                xmax = Math.max(xmax, s.x[i]);
                ymin = Math.min(ymin, s.y[i]);
                ymax = Math.max(ymax, s.y[i]);
            }
        }
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">", W, H, W, H));
        svg.append("<title>").append(HtmlText.escape(title)).append("</title>");
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>", LEFT, HtmlText.escape(title)));
        if (xmin > xmax) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#666\">no data</text></svg>", W / 2 - 25, H / 2));
            return svg.toString();
        }
        if (xmax == xmin) {
            xmin -= 1;
            xmax += 1;
        }
        if (ymax == ymin) {
            double pad = ymax == 0 ? 1 : Math.abs(ymax) * 0.1;
            ymin -= pad;
            ymax += pad;
        }
        double[] yt = ticks(ymin, ymax, 5), xt = ticks(xmin, xmax, 8);
        ymin = Math.min(ymin, yt[0]);
        ymax = Math.max(ymax, yt[yt.length - 1]);
        final double x0 = xmin, x1 = xmax, y0 = ymin, y1 = ymax;
        java.util.function.DoubleUnaryOperator px = v -> LEFT + (v - x0) / (x1 - x0) * (W - LEFT - RIGHT);
        java.util.function.DoubleUnaryOperator py = v -> H - BOTTOM - (v - y0) / (y1 - y0) * (H - TOP - BOTTOM);

        svg.append("<g font-size=\"11\" fill=\"#444\">");
        for (double t : yt) {
            if (t < y0 || t > y1) continue;
            double y = py.applyAsDouble(t);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", LEFT, W - RIGHT, y, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT - 6, y + 4, label(t)));
        }
        for (double t : xt) {
            if (t < x0 || t > x1) continue;
            double x = px.applyAsDouble(t);
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, H - BOTTOM + 16, label(t)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (LEFT + W - RIGHT) / 2, H - 8, HtmlText.escape(xLabel)));
        svg.append(String.format(Locale.ROOT, "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">%s</text>", (TOP + H - BOTTOM) / 2, HtmlText.escape(yLabel)));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM));
        svg.append("</g>");

        int legendX = W - RIGHT - 10;
        for (int k = series.size() - 1; k >= 0; k--) {
            Series s = series.get(k);
            for (List<double[]> run : runs(s)) {
                if (run.size() == 1) {
                    svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                            px.applyAsDouble(run.get(0)[0]), py.applyAsDouble(run.get(0)[1]), s.color));
                    continue;
                }
                svg.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(s.color).append("\" points=\"");
                for (double[] p : run) svg.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(p[0]), py.applyAsDouble(p[1])));
                svg.setLength(svg.length() - 1);
                svg.append("\"/>");
            }
            int textWidth = 7 * s.name.length() + 22;
            legendX -= textWidth;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"10\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%d\" y=\"15\" font-size=\"11\">%s</text>",
                    legendX, s.color, legendX + 16, HtmlText.escape(s.name)));
        }
        svg.append("</svg>");
        return svg.toString();
    }

    /** Runs of consecutive finite points. */
    private static List<List<double[]>> runs(Series s) {
        List<List<double[]>> out = new ArrayList<>();
        List<double[]> cur = new ArrayList<>();
        for (int i = 0; i < s.x.length; i++) {
            if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
                cur.add(new double[] {s.x[i], s.y[i]});
            } else if (!cur.isEmpty()) {
                out.add(cur);
                cur = new ArrayList<>();
            }
        }
        if (!cur.isEmpty()) out.add(cur);
        return out;
    }

    /** About {@code n} tick values covering [lo, hi], spaced 1, 2 or 5 × 10^k. */
    static double[] ticks(double lo, double hi, int n) {
        double raw = (hi - lo) / Math.max(1, n);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double r = raw / mag;
        double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
        double start = Math.floor(lo / step) * step, end = Math.ceil(hi / step) * step;
        int count = (int) Math.round((end - start) / step) + 1;
        double[] t = new double[count];
        for (int i = 0; i < count; i++) t[i] = start + i * step;
        return t;
    }

    static String label(double v) {
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        String s = String.format(Locale.ROOT, "%.6f", v).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
