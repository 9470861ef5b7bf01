package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** Han et al.'s iterative prune-then-retrain (H15) as one call: k rounds, each pruning then retraining. */
public final class HanPruning {
    private HanPruning() {
    }

    /** One s for every prunable tensor, scaled so the last round reaches {@code target} on the dense weights. */
    public static Map<String, Double> uniformQuality(Model dense, double target, boolean includeEmbedding) {
        Map<String, Double> relative = new LinkedHashMap<>();
        for (TensorSpec spec : dense.prunable(includeEmbedding)) {
            relative.put(spec.name(), 1.0);
        }
        return HanPruningPolicy.qualityForTarget(dense, relative, target);
    }

    /**
     * Runs {@code rounds} rounds on {@code model} in place: round r prunes at (r/k)·s·σ (σ of {@code dense}) and
     * retrains {@code roundConfig.steps()} steps with the masks fixed; round r uses seed {@code seed + r − 1} so the
     * rounds see different text streams.
     *
     * @param listeners the progress listener of each round (1-based)
     * @return the rounds as one result: steps and seconds summed, the last round's held-out bpc, the histories
     *         concatenated on one step axis
     */
    public static TrainResult run(Model model, Model dense, CharCorpus corpus, TrainConfig roundConfig,
                                  Map<String, Double> quality, int rounds, IntFunction<TrainingListener> listeners) {
        long steps = 0;
        double seconds = 0;
        double pruningSeconds = 0;
        double bpc = Double.NaN;
        List<TrainResult.Point> history = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            TrainConfig config = roundConfig.toBuilder().seed(roundConfig.seed() + round - 1).build();
            HanPruningPolicy policy = HanPruningPolicy.round(dense, quality, round, rounds);
            TrainResult result = new Trainer(model, corpus, config, policy, listeners.apply(round)).run();
            for (TrainResult.Point p : result.history()) {
                history.add(new TrainResult.Point(steps + p.step(), p.trainBpc(), p.sparsity(), p.bpcVal(),
                        p.millis()));
            }
            steps += result.steps();
            seconds += result.trainSeconds();
            pruningSeconds += result.pruningSeconds();
            bpc = result.bpcVal();
        }
        return new TrainResult(model, steps, seconds, seconds > 0 ? steps / seconds : 0, pruningSeconds, bpc,
                history);
    }
}
