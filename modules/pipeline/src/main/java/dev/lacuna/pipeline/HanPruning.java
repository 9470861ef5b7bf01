package dev.lacuna.pipeline;

import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.TrainingListener;
import java.nio.file.Path;
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
        return run(model, dense, corpus, roundConfig, quality, rounds, listeners, null, Checkpoints.NONE);
    }

    /**
     * As {@link #run(Model, Model, CharCorpus, TrainConfig, Map, int, IntFunction)}, checkpointing to
     * {@code checkpointFile} every {@code checkpoints.every()} steps of each round and, with
     * {@code checkpoints.resume()}, continuing from that file when it exists. The checkpoint holds the round in
     * progress, that round's training checkpoint and what the finished rounds produced (see docs/reliability.md), so
     * the resumed result equals an uninterrupted run's bit for bit except for the measured times.
     *
     * @param checkpointFile where the checkpoint goes; null only with {@link Checkpoints#NONE}
     * @throws dev.lacuna.core.InvalidOptionException naming {@code --resume} when the checkpoint belongs to another
     *                                                run (other model, data, settings, rounds or s)
     * @throws dev.lacuna.core.BadFileException       naming the checkpoint when it is damaged
     */
    public static TrainResult run(Model model, Model dense, CharCorpus corpus, TrainConfig roundConfig,
                                  Map<String, Double> quality, int rounds, IntFunction<TrainingListener> listeners,
                                  Path checkpointFile, Checkpoints checkpoints) {
        if (checkpoints.requested() && checkpointFile == null) {
            throw new IllegalArgumentException("checkpoints requested without a checkpoint file");
        }
        return new StagedTraining(model, corpus, rounds(dense, roundConfig, quality, rounds), listeners)
                .checkpoints(checkpointFile, checkpoints).run().training();
    }

    /** Round r's policy and settings: the round's threshold, the round's seed. */
    static List<StagedTraining.Stage> rounds(Model dense, TrainConfig roundConfig, Map<String, Double> quality,
                                             int rounds) {
        List<StagedTraining.Stage> stages = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            TrainConfig config = roundConfig.toBuilder().seed(roundConfig.seed() + round - 1).build();
            stages.add(new StagedTraining.Stage(HanPruningPolicy.round(dense, quality, round, rounds), config));
        }
        return stages;
    }
}
