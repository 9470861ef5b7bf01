package dev.lacuna.pipeline;

import java.util.List;

/**
 * The outcome of one run of an experiment: a pruning method applied to the dense model, or one model of a width
 * sweep. Counts follow {@link dev.lacuna.core.SparsityReport}: {@code sparsity} is over the prunable tensors,
 * {@code paramsNonzero} over every parameter.
 *
 * @param method            method id ({@code gradual}, {@code agp}, ..., or {@code dense} for a width-sweep model)
 * @param cell              cell id
 * @param layers            recurrent layers
 * @param hidden            hidden units per layer
 * @param params            every parameter of the architecture
 * @param paramsNonzero     non-zero parameters after the run
 * @param sparsity          fraction of prunable weights that are zero
 * @param sparsityPredicted the sparsity the method predicts from the dense weights before training, null if none
 * @param bpcVal            held-out bits per character after the run
 * @param trainSteps        optimizer steps from the dense model on
 * @param trainSeconds      wall time from the dense model on (training, pruning and, for han, its sensitivity
 *                          analysis; held-out evaluations excluded)
 * @param sizes             storage sizes
 * @param history           sparsity, threshold and held-out bpc along the run
 * @param error             why the run failed, or null when it finished
 */
public record RunRecord(String method, String cell, int layers, int hidden, long params, long paramsNonzero,
                        double sparsity, Double sparsityPredicted, double bpcVal, long trainSteps,
                        double trainSeconds, ModelSizes sizes, List<Point> history, String error) {

    public RunRecord {
        history = List.copyOf(history);
    }

    /** A run that failed before producing a model. */
    static RunRecord failed(String method, String cell, int layers, int hidden, long params, String error) {
        return new RunRecord(method, cell, layers, hidden, params, 0, Double.NaN, null, Double.NaN, 0, 0, null,
                List.of(), error);
    }

    public boolean finished() {
        return error == null;
    }

    /**
     * One point of a run's history.
     *
     * @param step      optimizer steps done (0 = the dense model)
     * @param sparsity  fraction of prunable weights masked during the step
     * @param threshold the effective pruning threshold in force: at each mask refresh, the largest magnitude that
     *                  refresh pruned in each tensor, averaged over the pruned tensors weighted by their size
     * @param bpcVal    held-out bpc after the step, NaN where none was measured
     */
    public record Point(long step, double sparsity, double threshold, double bpcVal) {
    }
}
