package dev.lacuna.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line and scatter plot drawn as inline SVG, so reports need no network, script or library. Axes are linear
 * with "nice" ticks; each series has a colour from a fixed palette that stays readable for common colour blindness
 * (Okabe–Ito).
 */
final class SvgPlot {
    private static final String[] PALETTE = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
        "#000000", "#F0E442"};
    private static final int WIDTH = 640;
    private static final int HEIGHT = 360;
    private static final int LEFT = 70;
    private static final int RIGHT = 150;
    private static final int TOP = 30;
    private static final int BOTTOM = 50;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();

    /** Points of one series; {@code lines} joins them in order, otherwise each is a dot. */
    record Series(String label, double[] x, double[] y, boolean lines) {
    }

    SvgPlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Adds a series; points with a non-finite coordinate are left out. */
    SvgPlot add(String label, List<double[]> points, boolean lines) {
        List<double[]> finite = points.stream().filter(p -> Double.isFinite(p[0]) && Double.isFinite(p[1])).toList();
        double[] x = finite.stream().mapToDouble(p -> p[0]).toArray();
        double[] y = finite.stream().mapToDouble(p -> p[1]).toArray();
        if (x.length > 0) {
            series.add(new Series(label, x, y, lines));
        }
        return this;
    }

    boolean isEmpty() {
        return series.isEmpty();
    }

    /** The {@code <svg>} element. No namespace attribute: HTML5 parses inline SVG without one. */
    String render() {
        double[] xr = range(true);
        double[] yr = range(false);
        double[] xTicks = ticks(xr[0], xr[1]);
        double[] yTicks = ticks(yr[0], yr[1]);
        xr = new double[] {Math.min(xr[0], xTicks[0]), Math.max(xr[1], xTicks[xTicks.length - 1])};
        yr = new double[] {Math.min(yr[0], yTicks[0]), Math.max(yr[1], yTicks[yTicks.length - 1])};
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg class=\"plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "role=\"img\" aria-label=\"%s\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT, Html.escape(title)));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" class=\"title\">%s</text>%n", LEFT,
                Html.escape(title)));
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#888\"/>%n", LEFT, TOP, plotW, plotH));
        for (double t : xTicks) {
            double px = px(t, xr, plotW);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>%n", px, TOP, px,
                    TOP + plotH, px, TOP + plotH + 16, label(t)));
        }
        for (double t : yTicks) {
            double py = py(t, yr, plotH);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>%n", LEFT, py,
                    LEFT + plotW, py, LEFT - 6, py + 4, label(t)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotW / 2, HEIGHT - 12, Html.escape(xLabel)));
        s.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" class=\"axis\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 16 %d)\">%s</text>%n", TOP + plotH / 2, TOP + plotH / 2,
                Html.escape(yLabel)));
        for (int i = 0; i < series.size(); i++) {
            Series sr = series.get(i);
            String colour = PALETTE[i % PALETTE.length];
            if (sr.lines() && sr.x().length > 1) {
                StringBuilder pts = new StringBuilder();
                for (int j = 0; j < sr.x().length; j++) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(sr.x()[j], xr, plotW),
                            py(sr.y()[j], yr, plotH)));
                }
                s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
                        + "points=\"%s\"/>%n", colour, pts.toString().strip()));
            }
            for (int j = 0; j < sr.x().length; j++) {
                if (!sr.lines() || sr.x().length <= 40) {
                    s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n",
                            px(sr.x()[j], xr, plotW), py(sr.y()[j], yr, plotH), colour));
                }
            }
            int ly = TOP + 14 + 18 * i;
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\" class=\"legend\">%s</text>%n", LEFT + plotW + 10, ly - 10, colour,
                    LEFT + plotW + 28, ly, Html.escape(sr.label())));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private double[] range(boolean x) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series sr : series) {
            for (double v : x ? sr.x() : sr.y()) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return new double[] {0, 1};
        }
        if (hi - lo < 1e-12) {
            double pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
            return new double[] {lo - pad, hi + pad};
        }
        return new double[] {lo, hi};
    }

    /** About five ticks at 1, 2 or 5 times a power of ten, covering [lo, hi]. */
    static double[] ticks(double lo, double hi) {
        double raw = (hi - lo) / 5;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude;
        for (double m : new double[] {1, 2, 5, 10}) {
            step = m * magnitude;
            if (step >= raw) {
                break;
            }
        }
        double first = Math.floor(lo / step) * step;
        double last = Math.ceil(hi / step) * step;
        int n = (int) Math.round((last - first) / step) + 1;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = first + i * step;
        }
        return out;
    }

    private static double px(double v, double[] r, int w) {
        return LEFT + (v - r[0]) / (r[1] - r[0]) * w;
    }

    private static double py(double v, double[] r, int h) {
        return TOP + h - (v - r[0]) / (r[1] - r[0]) * h;
    }

    private static String label(double v) {
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e5 || a < 1e-3) {
            return String.format(Locale.ROOT, "%.1e", v);
        }
        String text = String.format(Locale.ROOT, "%.4f", v);
        return text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
    }
}
