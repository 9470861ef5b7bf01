package dev.lacuna.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a {@link CompareExperiment} measured, growing as runs finish. {@link #toMap()} gives the
 * {@code report.json} structure; {@link ReportFiles} renders Markdown and HTML from the same data.
 */
public final class CompareReport {
    /** History points kept per run in the reports; longer histories are thinned evenly (evaluations always kept). */
    static final int MAX_HISTORY_POINTS = 300;

    private final Map<String, Object> settings;
    private final Map<String, Object> machine;
    private final Map<String, Object> dense;
    private final List<RunRecord> methods = new ArrayList<>();
    private final List<RunRecord> widthRuns = new ArrayList<>();
    private Map<String, Object> sensitivity;
    private boolean complete;

    CompareReport(Map<String, Object> settings, Map<String, Object> machine, Map<String, Object> dense) {
        this.settings = settings;
        this.machine = machine;
        this.dense = dense;
    }

    void addMethod(RunRecord run) {
        methods.add(run);
    }

    void addWidthRun(RunRecord run) {
        widthRuns.add(run);
    }

    void sensitivity(Map<String, Object> value) {
        sensitivity = value;
    }

    void complete(boolean value) {
        complete = value;
    }

    /** Whether every planned run finished. */
    public boolean complete() {
        return complete;
    }

    /** The method runs, in run order. */
    public List<RunRecord> methods() {
        return List.copyOf(methods);
    }

    /** The width sweep's runs: a dense model per cell and width, and a gradual-pruned one for all but the narrowest. */
    public List<RunRecord> widthRuns() {
        return List.copyOf(widthRuns);
    }

    /** The dense model: {@code cell, layers, hidden, params, bpc_val}. */
    public Map<String, Object> dense() {
        return dense;
    }

    Map<String, Object> settings() {
        return settings;
    }

    Map<String, Object> machine() {
        return machine;
    }

    /** The finished gradual run, the reference for relative steps and seconds, or null. */
    RunRecord gradual() {
        return methods.stream().filter(r -> r.finished() && r.method().equals("gradual")).findFirst().orElse(null);
    }

    /**
     * The width trade-off: for each finished sparse (wide) model of the sweep, the narrower dense model of the same
     * cell whose parameter count is closest to the sparse model's non-zeros.
     */
    public List<Pair> widthPairs() {
        List<Pair> pairs = new ArrayList<>();
        for (RunRecord sparse : widthRuns) {
            if (!sparse.finished() || sparse.method().equals("dense")) {
                continue;
            }
            RunRecord best = null;
            for (RunRecord narrow : widthRuns) {
                if (narrow.finished() && narrow.method().equals("dense") && narrow.cell().equals(sparse.cell())
                        && narrow.hidden() < sparse.hidden()
                        && (best == null || Math.abs(narrow.paramsNonzero() - sparse.paramsNonzero())
                        < Math.abs(best.paramsNonzero() - sparse.paramsNonzero()))) {
                    best = narrow;
                }
            }
            if (best != null) {
                pairs.add(new Pair(sparse, best));
            }
        }
        return pairs;
    }

    /** A wide sparse model and the narrow dense model with about as many non-zeros. */
    public record Pair(RunRecord wideSparse, RunRecord narrowDense) {
        /** Whether the wide sparse model has the lower held-out bpc. */
        public boolean sparseWins() {
            return wideSparse.bpcVal() < narrowDense.bpcVal();
        }
    }

    /** The {@code report.json} structure. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("complete", complete);
        m.put("settings", settings);
        m.put("machine", machine);
        m.put("dense", dense);
        RunRecord gradual = gradual();
        List<Map<String, Object>> runs = new ArrayList<>();
        for (RunRecord r : methods) {
            runs.add(runMap(r, gradual));
        }
        m.put("methods", runs);
        if (sensitivity != null) {
            m.put("sensitivity", sensitivity);
        }
        if (!widthRuns.isEmpty()) {
            List<Map<String, Object>> widths = new ArrayList<>();
            for (RunRecord r : widthRuns) {
                widths.add(runMap(r, null));
            }
            m.put("width_runs", widths);
            List<Map<String, Object>> pairs = new ArrayList<>();
            for (Pair p : widthPairs()) {
                Map<String, Object> pair = new LinkedHashMap<>();
                pair.put("cell", p.wideSparse().cell());
                pair.put("wide_hidden", p.wideSparse().hidden());
                pair.put("wide_params_nonzero", p.wideSparse().paramsNonzero());
                pair.put("wide_bpc_val", p.wideSparse().bpcVal());
                pair.put("narrow_hidden", p.narrowDense().hidden());
                pair.put("narrow_params", p.narrowDense().paramsNonzero());
                pair.put("narrow_bpc_val", p.narrowDense().bpcVal());
                pair.put("sparse_wins", p.sparseWins());
                pairs.add(pair);
            }
            m.put("width_pairs", pairs);
        }
        return m;
    }

    private Map<String, Object> runMap(RunRecord r, RunRecord gradual) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", r.method());
        m.put("cell", r.cell());
        m.put("layers", r.layers());
        m.put("hidden", r.hidden());
        m.put("params", r.params());
        m.put("status", r.finished() ? "finished" : "failed");
        if (!r.finished()) {
            m.put("error", r.error());
            return m;
        }
        m.put("sparsity", r.sparsity());
        m.put("sparsity_predicted", r.sparsityPredicted());
        m.put("params_nonzero", r.paramsNonzero());
        m.put("bpc_val", r.bpcVal());
        Object denseBpc = dense.get("bpc_val");
        if (denseBpc instanceof Double d) {
            m.put("bpc_change", r.bpcVal() / d - 1);
        }
        m.put("train_steps", r.trainSteps());
        m.put("train_seconds", r.trainSeconds());
        if (gradual != null) {
            m.put("train_steps_relative", gradual.trainSteps() > 0 ? (double) r.trainSteps() / gradual.trainSteps()
                    : null);
            m.put("train_seconds_relative", gradual.trainSeconds() > 0 ? r.trainSeconds() / gradual.trainSeconds()
                    : null);
        }
        m.put("size_bytes", r.sizes().toMap());
        m.put("history", history(r.history()));
        return m;
    }

    /** History points with NaN bpc left out (JSON has no NaN), thinned to at most {@link #MAX_HISTORY_POINTS}. */
    static List<Map<String, Object>> history(List<RunRecord.Point> points) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RunRecord.Point p : thin(points)) {
            Map<String, Object> point = new LinkedHashMap<>();
            point.put("step", p.step());
            point.put("sparsity", p.sparsity());
            point.put("threshold", p.threshold());
            if (!Double.isNaN(p.bpcVal())) {
                point.put("bpc_val", p.bpcVal());
            }
            out.add(point);
        }
        return out;
    }

    /** Every k-th point plus the first, the last, every evaluated point and every change of sparsity. */
    static List<RunRecord.Point> thin(List<RunRecord.Point> points) {
        int every = Math.max(1, (points.size() + MAX_HISTORY_POINTS - 1) / MAX_HISTORY_POINTS);
        List<RunRecord.Point> out = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            RunRecord.Point p = points.get(i);
            boolean sparsityChanged = i > 0 && p.sparsity() != points.get(i - 1).sparsity();
            if (i % every == 0 || i == points.size() - 1 || !Double.isNaN(p.bpcVal()) || sparsityChanged) {
                out.add(p);
            }
        }
        return out;
    }
}
