package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.GradualSchedule;
import dev.lacuna.core.prune.Magnitudes;
import dev.lacuna.core.prune.ScheduleSteps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code lacuna plan}: what a gradual pruning run will do, computed without training. It answers N17's reviewers'
 * questions up front: the derived schedule (q per tensor, θ, φ, S/R/E/f) and the sparsity each mask refresh gives
 * on the dense weights, ending in the predicted final sparsity and non-zero count. The prediction is exact if
 * training does not move the weights and an estimate otherwise; {@code compare} reports it beside the achieved value.
 */
public final class SchedulePlan {
    /** Preview rows shown at most; longer schedules are thinned evenly, keeping the first and last refresh. */
    static final int MAX_PREVIEW_ROWS = 24;
    private static final int BAR_WIDTH = 40;

    private final GradualPruningPolicy policy;
    private final long totalSteps;
    private final long paramsTotal;
    private final long predictedNonzero;
    private final List<Row> preview;

    /**
     * One preview row.
     *
     * @param step      refresh step
     * @param threshold size-weighted mean over pruned tensors of ε_tensor(step)
     * @param sparsity  fraction of the dense prunable weights at or below their tensor's ε(step)
     */
    public record Row(long step, double threshold, double sparsity) {
    }

    private SchedulePlan(GradualPruningPolicy policy, long totalSteps, long paramsTotal, long predictedNonzero,
                         List<Row> preview) {
        this.policy = policy;
        this.totalSteps = totalSteps;
        this.paramsTotal = paramsTotal;
        this.predictedNonzero = predictedNonzero;
        this.preview = List.copyOf(preview);
    }

    /** The plan of {@code policy} (built for {@code dense} and a run of {@code totalSteps}) on the dense weights. */
    public static SchedulePlan of(Model dense, GradualPruningPolicy policy, long totalSteps) {
        Map<String, float[]> sorted = new LinkedHashMap<>();
        long prunable = 0;
        for (String name : policy.prunedTensors()) {
            float[] abs = SensitivityAnalysis.sortedMagnitudes(dense.tensor(name).data());
            sorted.put(name, abs);
            prunable += abs.length;
        }
        ScheduleSteps steps = policy.steps();
        List<Long> refreshSteps = new ArrayList<>();
        for (long t = (steps.start() / steps.freq() + 1) * steps.freq(); t < steps.end(); t += steps.freq()) {
            refreshSteps.add(t);
        }
        List<Row> rows = new ArrayList<>();
        int every = Math.max(1, (refreshSteps.size() + MAX_PREVIEW_ROWS - 1) / MAX_PREVIEW_ROWS);
        for (int i = 0; i < refreshSteps.size(); i++) {
            if (i % every != 0 && i != refreshSteps.size() - 1) {
                continue;
            }
            long t = refreshSteps.get(i);
            double weighted = 0;
            long below = 0;
            for (Map.Entry<String, float[]> e : sorted.entrySet()) {
                double eps = policy.threshold(e.getKey(), t);
                weighted += eps * e.getValue().length;
                below += Magnitudes.countAtOrBelow(e.getValue(), eps);
            }
            rows.add(new Row(t, weighted / prunable, (double) below / prunable));
        }
        SparsityReport current = dense.sparsity(false);
        long predictedPruned = Math.round(policy.predictedSparsity() * prunable);
        return new SchedulePlan(policy, totalSteps, current.paramsTotal(), current.paramsTotal() - predictedPruned,
                rows);
    }


    public double predictedSparsity() {
        return policy.predictedSparsity();
    }

    /** Predicted non-zero parameters of the whole model (biases and unpruned tensors count in full). */
    public long predictedNonzero() {
        return predictedNonzero;
    }

    public List<Row> preview() {
        return preview;
    }

    /** The {@code --json} structure. */
    public Map<String, Object> toMap() {
        ScheduleSteps s = policy.steps();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps", totalSteps);
        m.put("start", s.start());
        m.put("ramp", s.ramp());
        m.put("end", s.end());
        m.put("freq", s.freq());
        m.put("last_refresh", s.lastRefresh());
        m.put("refreshes", s.refreshCount());
        List<Map<String, Object>> tensors = new ArrayList<>();
        for (String name : policy.prunedTensors()) {
            GradualSchedule g = policy.schedule(name);
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", name);
            t.put("q", policy.q().get(name));
            t.put("theta", g.startSlope());
            t.put("phi", g.rampSlope());
            t.put("final_threshold", g.finalThreshold());
            t.put("sparsity_predicted", policy.predictedSparsityPerTensor().get(name));
            tensors.add(t);
        }
        m.put("tensors", tensors);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Row r : preview) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", r.step());
            row.put("threshold", r.threshold());
            row.put("sparsity", r.sparsity());
            rows.add(row);
        }
        m.put("preview", rows);
        m.put("sparsity_predicted", policy.predictedSparsity());
        m.put("params", paramsTotal);
        m.put("params_nonzero_predicted", predictedNonzero);
        m.put("hyperparameters", policy.hyperparameters());
        return m;
    }

    /** A plain-text plan: schedule, per-tensor table, and the preview with a bar per row. */
    public String toText() {
        ScheduleSteps s = policy.steps();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "schedule over %d steps: start %d, ramp %d, end %d, freq %d "
                + "(%d refreshes, last at %d)%n%n", totalSteps, s.start(), s.ramp(), s.end(), s.freq(),
                s.refreshCount(), s.lastRefresh()));
        b.append(String.format(Locale.ROOT, "%-24s %12s %12s %12s %12s %10s%n", "tensor", "q", "theta", "phi",
                "final eps", "sparsity"));
        for (String name : policy.prunedTensors()) {
            GradualSchedule g = policy.schedule(name);
            b.append(String.format(Locale.ROOT, "%-24s %12.6g %12.6g %12.6g %12.6g %9.2f%%%n", name,
                    policy.q().get(name), g.startSlope(), g.rampSlope(), g.finalThreshold(),
                    100 * policy.predictedSparsityPerTensor().get(name)));
        }
        b.append(String.format(Locale.ROOT, "%nsparsity preview on the dense weights%n%8s %12s %9s%n", "step",
                "mean eps", "sparsity"));
        for (Row r : preview) {
            int bar = (int) Math.round(r.sparsity() * BAR_WIDTH);
            b.append(String.format(Locale.ROOT, "%8d %12.6g %8.2f%% |%s%s|%n", r.step(), r.threshold(),
                    100 * r.sparsity(), "#".repeat(bar), " ".repeat(BAR_WIDTH - bar)));
        }
        b.append(String.format(Locale.ROOT, "%npredicted final sparsity %.2f%% of prunable weights; non-zero "
                + "parameters %,d of %,d%n", 100 * policy.predictedSparsity(), predictedNonzero, paramsTotal));
        return b.toString();
    }
}
