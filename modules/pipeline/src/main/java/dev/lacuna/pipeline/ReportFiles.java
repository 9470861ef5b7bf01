package dev.lacuna.pipeline;

import dev.lacuna.io.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the reports of an experiment: {@code report.json} (the data), {@code report.md} (a table like N17 Table 3)
 * and a self-contained {@code report.html} (the table and inline SVG plots; no script, stylesheet or image is
 * loaded from anywhere). Every file is written atomically.
 */
public final class ReportFiles {
    /** What the size columns measure, under the table of both report pages. */
    private static final String SIZES_NOTE = "Sparse bytes: CSR with fp32 values, int16 column indices and int32 row"
            + " pointers. Quantized and Huffman bytes: the model as a .lacuna file with k-means codebooks of --bits"
            + " bits, without and with Huffman coding (empty when the report was made without the encoder).";

    /** File names inside the output folder. */
    public static final String JSON = "report.json";
    public static final String MARKDOWN = "report.md";
    public static final String HTML = "report.html";

    private static final String STYLE = "body{font-family:sans-serif;margin:2em;max-width:1100px}"
            + "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
            + "text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}"
            + ".warn{background:#fff3cd;padding:8px;border:1px solid #e0c97f}"
            + "svg.plot{margin:8px 0}svg .title{font-weight:bold;font-size:14px}svg .tick{font-size:11px}"
            + "svg .axis{font-size:12px}svg .legend{font-size:12px}";

    private ReportFiles() {
    }

    /** Writes all three reports of a comparison into {@code outDir}. */
    public static void writeAll(Path outDir, CompareReport report) {
        Json.write(outDir.resolve(JSON), report.toMap());
        writeText(outDir.resolve(MARKDOWN), markdown(report));
        writeText(outDir.resolve(HTML), html(report));
    }

    static void writeText(Path target, String text) {
        AtomicFiles.write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    // ---------------------------------------------------------------- tables

    private static final List<String> HEADER = List.of("method", "cell", "hidden", "params", "non-zeros",
            "sparsity", "predicted", "held-out bpc", "vs dense", "train steps", "steps vs gradual", "train s",
            "s vs gradual", "fp32 bytes", "sparse bytes", "quantized bytes", "huffman bytes");

    /** The Table-3-like rows: the dense model, then every method run. */
    static List<List<String>> methodRows(CompareReport report) {
        List<List<String>> rows = new ArrayList<>();
        Map<String, Object> d = report.dense();
        @SuppressWarnings("unchecked")
        Map<String, Object> denseSizes = (Map<String, Object>) d.get("size_bytes");
        rows.add(List.of("dense", str(d.get("cell")), str(d.get("hidden")), count(d.get("params")),
                count(d.get("params_nonzero")), "0", "", num((Double) d.get("bpc_val"), 4), "", "0", "", "0", "",
                count(denseSizes.get("fp32")), count(denseSizes.get("sparse")), bytes(denseSizes.get("quantized")),
                bytes(denseSizes.get("huffman"))));
        double denseBpc = (Double) d.get("bpc_val");
        RunRecord gradual = report.gradual();
        for (RunRecord r : report.methods()) {
            rows.add(runRow(r, denseBpc, gradual));
        }
        return rows;
    }

    static List<String> runRow(RunRecord r, double denseBpc, RunRecord gradual) {
        if (!r.finished()) {
            List<String> row = new ArrayList<>(List.of(r.method(), r.cell(), str(r.hidden()), count(r.params()),
                    "failed: " + r.error()));
            while (row.size() < HEADER.size()) {
                row.add("");
            }
            return row;
        }
        return List.of(r.method(), r.cell(), str(r.hidden()), count(r.params()), count(r.paramsNonzero()),
                pct(r.sparsity()), r.sparsityPredicted() == null ? "" : pct(r.sparsityPredicted()),
                num(r.bpcVal(), 4), String.format(Locale.ROOT, "%+.2f%%", 100 * (r.bpcVal() / denseBpc - 1)),
                count(r.trainSteps()),
                gradual == null || gradual.trainSteps() == 0 ? "" : num((double) r.trainSteps() / gradual.trainSteps(), 2) + "x",
                num(r.trainSeconds(), 1),
                gradual == null || gradual.trainSeconds() == 0 ? "" : num(r.trainSeconds() / gradual.trainSeconds(), 2) + "x",
                count(r.sizes().fp32()), count(r.sizes().sparse()), bytes(r.sizes().quantized()),
                bytes(r.sizes().huffman()));
    }

    private static final List<String> PAIR_HEADER = List.of("cell", "wide hidden", "wide sparse non-zeros",
            "wide sparse bpc", "narrow hidden", "narrow dense params", "narrow dense bpc", "better");

    static List<List<String>> pairRows(CompareReport report) {
        List<List<String>> rows = new ArrayList<>();
        for (CompareReport.Pair p : report.widthPairs()) {
            rows.add(List.of(p.wideSparse().cell(), str(p.wideSparse().hidden()), count(p.wideSparse().paramsNonzero()),
                    num(p.wideSparse().bpcVal(), 4), str(p.narrowDense().hidden()),
                    count(p.narrowDense().paramsNonzero()), num(p.narrowDense().bpcVal(), 4),
                    p.sparseWins() ? "wide sparse" : "narrow dense"));
        }
        return rows;
    }

    private static final List<String> WIDTH_HEADER = List.of("method", "cell", "hidden", "params", "non-zeros",
            "sparsity", "predicted", "held-out bpc", "train steps", "train s");

    static List<List<String>> widthRows(CompareReport report) {
        List<List<String>> rows = new ArrayList<>();
        for (RunRecord r : report.widthRuns()) {
            if (!r.finished()) {
                rows.add(List.of(r.method(), r.cell(), str(r.hidden()), count(r.params()), "failed: " + r.error(),
                        "", "", "", "", ""));
                continue;
            }
            rows.add(List.of(r.method(), r.cell(), str(r.hidden()), count(r.params()), count(r.paramsNonzero()),
                    pct(r.sparsity()), r.sparsityPredicted() == null ? "" : pct(r.sparsityPredicted()),
                    num(r.bpcVal(), 4), count(r.trainSteps()), num(r.trainSeconds(), 1)));
        }
        return rows;
    }

    // ---------------------------------------------------------------- markdown

    static String markdown(CompareReport report) {
        StringBuilder s = new StringBuilder("# Lacuna pruning comparison\n\n");
        if (!report.complete()) {
            s.append("**Incomplete:** a run failed or the experiment is still running; the table shows the runs "
                    + "that finished.\n\n");
        }
        Map<String, Object> set = report.settings();
        s.append(String.format(Locale.ROOT, "Target sparsity %s, budget %s steps, data `%s`; dense model %s, %s "
                        + "layer(s), hidden %s, held-out bpc %s.%n%n", set.get("target_sparsity"), set.get("steps"),
                set.get("data"), report.dense().get("cell"), report.dense().get("layers"),
                report.dense().get("hidden"), num((Double) report.dense().get("bpc_val"), 4)));
        s.append(markdownTable(HEADER, methodRows(report)));
        s.append("\nSparsity is over the prunable weights; non-zeros count every parameter. \"predicted\" is the "
                + "sparsity the method's final masks give on the dense weights, before training. Steps and seconds "
                + "count from the dense model on. " + SIZES_NOTE + "\n");
        if (!report.widthRuns().isEmpty()) {
            s.append("\n## Width sweep\n\n").append(markdownTable(WIDTH_HEADER, widthRows(report)));
            s.append("\n### Wide sparse vs narrow dense with about as many non-zeros\n\n")
                    .append(markdownTable(PAIR_HEADER, pairRows(report)));
        }
        s.append(String.format(Locale.ROOT, "%nMachine: %s%n", report.machine()));
        return s.toString();
    }

    static String markdownTable(List<String> header, List<List<String>> rows) {
        StringBuilder s = new StringBuilder("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            s.append(i == 0 ? "---|" : "---:|");
        }
        s.append('\n');
        for (List<String> row : rows) {
            s.append("| ").append(String.join(" | ", row.stream().map(c -> c.replace("|", "\\|")).toList()))
                    .append(" |\n");
        }
        return s.toString();
    }

    // ---------------------------------------------------------------- html

    static String html(CompareReport report) {
        StringBuilder s = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Lacuna pruning comparison</title><style>" + STYLE + "</style></head><body>\n"
                + "<h1>Lacuna pruning comparison</h1>\n");
        if (!report.complete()) {
            s.append("<p class=\"warn\"><b>Incomplete:</b> a run failed or the experiment is still running; the "
                    + "table shows the runs that finished.</p>\n");
        }
        s.append(htmlTable(HEADER, methodRows(report)));
        s.append("<p>Sparsity is over the prunable weights; non-zeros count every parameter. " + SIZES_NOTE
                + "</p>\n");
        for (SvgPlot plot : plots(report)) {
            if (!plot.isEmpty()) {
                s.append(plot.render());
            }
        }
        if (!report.widthRuns().isEmpty()) {
            s.append("<h2>Width sweep</h2>\n").append(htmlTable(WIDTH_HEADER, widthRows(report)));
            s.append("<h3>Wide sparse vs narrow dense with about as many non-zeros</h3>\n")
                    .append(htmlTable(PAIR_HEADER, pairRows(report)));
        }
        s.append("<h2>Settings</h2><pre>").append(Html.escape(Json.pretty(report.settings()))).append("</pre>\n");
        s.append("<h2>Machine</h2><pre>").append(Html.escape(Json.pretty(report.machine()))).append("</pre>\n");
        s.append("</body></html>\n");
        return s.toString();
    }

    /** Sparsity, threshold and held-out bpc against the step per method, and the bpc/non-zeros Pareto view. */
    static List<SvgPlot> plots(CompareReport report) {
        SvgPlot sparsity = new SvgPlot("Sparsity vs step", "optimizer steps from the dense model", "sparsity");
        SvgPlot threshold = new SvgPlot("Pruning threshold vs step", "optimizer steps from the dense model",
                "effective threshold |w|");
        SvgPlot bpc = new SvgPlot("Held-out bpc vs step", "optimizer steps from the dense model", "bits per char");
        SvgPlot pareto = new SvgPlot("Held-out bpc vs non-zero parameters", "non-zero parameters", "bits per char");
        List<double[]> denseOnly = new ArrayList<>();
        denseOnly.add(new double[] {((Number) report.dense().get("params_nonzero")).doubleValue(),
            (Double) report.dense().get("bpc_val")});
        pareto.add("dense", denseOnly, false);
        for (RunRecord r : report.methods()) {
            if (!r.finished()) {
                continue;
            }
            List<RunRecord.Point> points = CompareReport.thin(r.history());
            sparsity.add(r.method(), points.stream().map(p -> new double[] {p.step(), p.sparsity()}).toList(), true);
            threshold.add(r.method(), points.stream().map(p -> new double[] {p.step(), p.threshold()}).toList(), true);
            bpc.add(r.method(), points.stream().filter(p -> !Double.isNaN(p.bpcVal()))
                    .map(p -> new double[] {p.step(), p.bpcVal()}).toList(), true);
            pareto.add(r.method(), List.<double[]>of(new double[] {r.paramsNonzero(), r.bpcVal()}), false);
        }
        Map<String, List<double[]>> widthSeries = new LinkedHashMap<>();
        for (RunRecord r : report.widthRuns()) {
            if (r.finished()) {
                String key = (r.method().equals("dense") ? "dense " : "sparse ") + r.cell() + " widths";
                widthSeries.computeIfAbsent(key, k -> new ArrayList<>())
                        .add(new double[] {r.paramsNonzero(), r.bpcVal()});
            }
        }
        widthSeries.forEach((label, pts) -> pareto.add(label, pts, false));
        return List.of(sparsity, threshold, bpc, pareto);
    }

    static String htmlTable(List<String> header, List<List<String>> rows) {
        StringBuilder s = new StringBuilder("<table><tr>");
        for (String h : header) {
            s.append("<th>").append(Html.escape(h)).append("</th>");
        }
        s.append("</tr>\n");
        for (List<String> row : rows) {
            s.append("<tr>");
            for (String c : row) {
                s.append("<td>").append(Html.escape(c)).append("</td>");
            }
            s.append("</tr>\n");
        }
        return s.append("</table>\n").toString();
    }

    // ---------------------------------------------------------------- sensitivity

    /** Sensitivity report file names. */
    public static final String SENSITIVITY_JSON = "sensitivity.json";
    public static final String SENSITIVITY_MARKDOWN = "sensitivity.md";
    public static final String SENSITIVITY_HTML = "sensitivity.html";

    /** Writes {@code sensitivity.json}, {@code sensitivity.md} and {@code sensitivity.html} into {@code outDir}. */
    public static void writeSensitivity(Path outDir, SensitivityAnalysis.Result result, double tolerance) {
        Json.write(outDir.resolve(SENSITIVITY_JSON), result.toMap(tolerance));
        writeText(outDir.resolve(SENSITIVITY_MARKDOWN), "# Lacuna sensitivity analysis\n\n"
                + sensitivityNote(result, tolerance) + "\n\n"
                + markdownTable(sensitivityHeader(result), sensitivityRows(result, tolerance)));
        SvgPlot plot = new SvgPlot("Held-out bpc with one tensor pruned", "sparsity of that tensor", "bits per char");
        for (SensitivityAnalysis.Row row : result.rows()) {
            List<double[]> points = new ArrayList<>();
            points.add(new double[] {0, result.denseBpc()});
            for (int i = 0; i < result.levels().size(); i++) {
                points.add(new double[] {result.levels().get(i), row.bpc().get(i)});
            }
            plot.add(row.tensor(), points, true);
        }
        writeText(outDir.resolve(SENSITIVITY_HTML), "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Lacuna sensitivity analysis</title><style>" + STYLE + "</style></head><body>\n"
                + "<h1>Lacuna sensitivity analysis</h1>\n<p>" + Html.escape(sensitivityNote(result, tolerance))
                + "</p>\n" + htmlTable(sensitivityHeader(result), sensitivityRows(result, tolerance)) + plot.render()
                + "</body></html>\n");
    }

    private static String sensitivityNote(SensitivityAnalysis.Result result, double tolerance) {
        return String.format(Locale.ROOT, "Dense held-out bpc %.4f. Each row prunes one tensor alone by magnitude. "
                + "Safe level: the highest level within +%.1f%% bpc. Han's s: the multiple of the tensor's sigma "
                + "that prunes its safe level.", result.denseBpc(), 100 * tolerance);
    }

    static List<String> sensitivityHeader(SensitivityAnalysis.Result result) {
        List<String> header = new ArrayList<>(List.of("tensor", "size"));
        for (double level : result.levels()) {
            header.add("bpc @" + pct(level));
        }
        header.addAll(List.of("safe level", "han s"));
        return header;
    }

    static List<List<String>> sensitivityRows(SensitivityAnalysis.Result result, double tolerance) {
        Map<String, Double> s = result.hanQuality(tolerance);
        List<List<String>> rows = new ArrayList<>();
        for (SensitivityAnalysis.Row row : result.rows()) {
            List<String> cells = new ArrayList<>(List.of(row.tensor(), count(row.size())));
            for (double bpc : row.bpc()) {
                cells.add(num(bpc, 4));
            }
            cells.add(pct(result.safeLevel(row, tolerance)));
            cells.add(num(s.get(row.tensor()), 3));
            rows.add(cells);
        }
        return rows;
    }

    // ---------------------------------------------------------------- formatting

    static String str(Object o) {
        return String.valueOf(o);
    }

    static String count(Object o) {
        return o == null ? "n/a" : String.format(Locale.ROOT, "%,d", ((Number) o).longValue());
    }

    /** A size from the compressed-size hook, "n/a" until one is wired in. */
    static String bytes(Object o) {
        return o == null ? "n/a" : count(o);
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    static String num(Double v, int decimals) {
        return v == null || v.isNaN() ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
