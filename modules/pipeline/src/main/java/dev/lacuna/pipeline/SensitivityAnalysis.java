package dev.lacuna.pipeline;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.train.Evaluator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Distiller-style sensitivity analysis (H15 §3; algorithms.md §3(a)): each prunable tensor alone is pruned by
 * magnitude to each level, with every other tensor left as it is, and the held-out bpc is measured. No training
 * happens, so the table shows how much each tensor's smallest weights matter to the trained model.
 */
public final class SensitivityAnalysis {
    private SensitivityAnalysis() {
    }

    /**
     * Validates sparsity levels: at least one, each in (0, 1), distinct; returns them in ascending order.
     *
     * @throws InvalidOptionException naming {@code --levels}
     */
    public static List<Double> checkLevels(List<Double> levels) {
        if (levels.isEmpty()) {
            throw new InvalidOptionException("--levels", "needs at least one sparsity level");
        }
        List<Double> sorted = new ArrayList<>(new java.util.TreeSet<>(levels));
        if (sorted.size() != levels.size()) {
            throw new InvalidOptionException("--levels", "lists a level twice: " + levels);
        }
        for (double level : sorted) {
            if (!(level > 0 && level < 1)) {
                throw new InvalidOptionException("--levels", "every level must be in (0, 1), found " + level);
            }
        }
        return List.copyOf(sorted);
    }

    /**
     * Runs the analysis on {@code ids} (held-out text encoded with the model's vocabulary). The model is not changed.
     *
     * @param includeEmbedding analyse the embedding too
     * @param progress         told before each tensor, may be {@link RunListener#NONE}
     */
    public static Result run(Model model, int[] ids, List<Double> levels, boolean includeEmbedding,
                             RunListener progress) {
        List<Double> sorted = checkLevels(levels);
        Model work = model.copy();
        work.applyMasks();
        double denseBpc = Evaluator.bpc(work, ids);
        List<TensorSpec> specs = work.prunable(includeEmbedding);
        List<Row> rows = new ArrayList<>();
        int index = 0;
        for (TensorSpec spec : specs) {
            progress.onRun("sensitivity " + spec.name(), ++index, specs.size());
            float[] data = work.tensor(spec.name()).data();
            float[] original = data.clone();
            float[] sortedAbs = sortedMagnitudes(original);
            List<Double> bpc = new ArrayList<>();
            for (double level : sorted) {
                double threshold = thresholdFor(sortedAbs, level);
                for (int i = 0; i < data.length; i++) {
                    data[i] = Math.abs(original[i]) > threshold ? original[i] : 0f;
                }
                bpc.add(Evaluator.bpc(work, ids));
            }
            System.arraycopy(original, 0, data, 0, data.length);
            rows.add(new Row(spec.name(), data.length, bpc, HanPruningPolicy.standardDeviation(original),
                    sortedAbs));
        }
        return new Result(denseBpc, sorted, rows);
    }

    static float[] sortedMagnitudes(float[] w) {
        float[] abs = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            abs[i] = Math.abs(w[i]);
        }
        Arrays.sort(abs);
        return abs;
    }

    /** The level criterion: the largest of the {@code round(level·n)} smallest magnitudes (ties pruned too). */
    static double thresholdFor(float[] sortedAbs, double level) {
        long k = Math.round(level * sortedAbs.length);
        return k == 0 ? -1 : sortedAbs[(int) k - 1];
    }

    /**
     * One tensor's results.
     *
     * @param tensor tensor name
     * @param size   number of weights
     * @param bpc    held-out bpc with only this tensor pruned, one per level
     * @param sigma  σ of the tensor's weights (mean-centred, unbiased)
     */
    public record Row(String tensor, long size, List<Double> bpc, double sigma, float[] sortedMagnitudes) {
        public Row {
            bpc = List.copyOf(bpc);
        }
    }

    /**
     * The analysis of one model.
     *
     * @param denseBpc held-out bpc with nothing pruned
     * @param levels   the sparsity levels, ascending
     * @param rows     one row per prunable tensor, in architecture order
     */
    public record Result(double denseBpc, List<Double> levels, List<Row> rows) {

        /**
         * The highest level at which pruning the tensor alone kept bpc within {@code denseBpc·(1 + tolerance)};
         * half the lowest level when even that one did not (a sensitive tensor is still pruned, but lightly).
         */
        public double safeLevel(Row row, double tolerance) {
            double safe = levels.get(0) / 2;
            for (int i = 0; i < levels.size(); i++) {
                if (row.bpc().get(i) <= denseBpc * (1 + tolerance)) {
                    safe = levels.get(i);
                }
            }
            return safe;
        }

        /**
         * Han's quality parameter per tensor from this analysis (the rule Lacuna documents in docs/compare.md):
         * {@code s_t} is the multiple of σ_t that prunes exactly the tensor's safe level of its weights, so that
         * thresholds {@code s_t·σ_t} prune each tensor as far as it tolerated alone. A compare run scales all s_t
         * by one factor to reach its target ({@link HanPruningPolicy#qualityForTarget}); the less sensitive a
         * tensor, the larger its share of the pruning.
         */
        public Map<String, Double> hanQuality(double tolerance) {
            Map<String, Double> s = new LinkedHashMap<>();
            for (Row row : rows) {
                double threshold = Math.max(0, thresholdFor(row.sortedMagnitudes(), safeLevel(row, tolerance)));
                s.put(row.tensor(), row.sigma() > 0 ? threshold / row.sigma() : 0);
            }
            return s;
        }

        /** Report fields: {@code dense_bpc, levels, tolerance, tensors: [{name, size, sigma, bpc, safe_level, han_s}]}. */
        public Map<String, Object> toMap(double tolerance) {
            Map<String, Double> s = hanQuality(tolerance);
            List<Map<String, Object>> tensors = new ArrayList<>();
            for (Row row : rows) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", row.tensor());
                t.put("size", row.size());
                t.put("sigma", row.sigma());
                t.put("bpc", row.bpc());
                t.put("safe_level", safeLevel(row, tolerance));
                t.put("han_s", s.get(row.tensor()));
                tensors.add(t);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dense_bpc", denseBpc);
            m.put("levels", levels);
            m.put("tolerance", tolerance);
            m.put("tensors", tensors);
            return m;
        }
    }
}
