package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.QMode;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.TrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna prune}: fine-tunes a trained model while pruning it gradually (N17 Alg. 1). The schedule defaults
 * follow N17 Table 2 scaled to the run; without {@code --target-sparsity} and {@code --q}, q is the 90th percentile
 * of the trained weights' magnitudes, the paper's rule (algorithms.md §1(b)).
 */
@Command(name = "prune", sortOptions = false, usageHelpAutoWidth = true,
        description = "Prune a trained model by gradual magnitude pruning while fine-tuning it.")
final class PruneCommand implements Callable<Integer> {
    static final double DEFAULT_LR = 1e-3;
    static final List<String> METHODS = List.of("gradual");

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "Trained checkpoint.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text for fine-tuning.")
    Path data;

    @Option(names = "--method", paramLabel = "NAME", defaultValue = "gradual",
            description = "Pruning method: gradual (Narang et al. 2017; default).")
    String method;

    @Option(names = "--target-sparsity", paramLabel = "S", description = "Fraction of prunable weights to remove,"
            + " in (0,1); q is re-chosen at every mask refresh so that the last one prunes exactly this fraction.")
    Double targetSparsity;

    @Option(names = "--steps", required = true, paramLabel = "S", description = "Fine-tuning steps.")
    long steps;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Random seed (default"
            + " ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "MODEL", description = "Pruned checkpoint to write.")
    Path out;

    @Option(names = "--q", paramLabel = "Q", description = "Threshold reached at the end of pruning (instead of"
            + " the 90th percentile of |w|).")
    Double q;

    @Option(names = "--q-mode", paramLabel = "per-tensor|layer-type", defaultValue = "per-tensor",
            description = "One q per tensor (default) or per layer type as in the paper.")
    String qMode;

    @Option(names = "--start", paramLabel = "STEP", description = "First pruning step (default: 2nd epoch).")
    Long start;

    @Option(names = "--ramp", paramLabel = "STEP", description = "Step where the threshold slope rises (default"
            + " 25%% of the run).")
    Long ramp;

    @Option(names = "--end", paramLabel = "STEP", description = "Step after which masks freeze (default 50%%).")
    Long end;

    @Option(names = "--freq", paramLabel = "STEPS", description = "Steps between mask refreshes (default 100).")
    Long freq;

    @Option(names = "--ramp-ratio", paramLabel = "R", defaultValue = "1.5",
            description = "Ramp slope over start slope, phi/theta (default ${DEFAULT-VALUE}).")
    double rampRatio;

    @Option(names = "--regrow", description = "Let pruned weights return when they grow past the threshold"
            + " (the paper's text; default: masks are sticky, as in Distiller).")
    boolean regrow;

    @Option(names = "--prune-embedding", description = "Also prune the embedding (an extension of the paper).")
    boolean pruneEmbedding;

    @Mixin
    TrainingOptions training;

    @Mixin
    ResultOptions results;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        checkMethod(method);
        QMode mode = QMode.parse(qMode);
        ResultOptions.checkTarget("--out", out);
        results.checkTargets();
        TrainConfig config = training.toConfig(steps, seed, DEFAULT_LR);

        Model dense = ModelCheckpoint.load(model);
        CharCorpus corpus = CharCorpus.load(data, dense.vocabulary());
        GradualPruningPolicy policy = GradualPruningPolicy.builder(dense, steps, stepsPerEpoch(dense, corpus, config))
                .start(start).ramp(ramp).end(end).freq(freq).rampRatio(rampRatio)
                .q(q).qMode(mode).targetSparsity(targetSparsity)
                .sticky(!regrow).includeEmbedding(pruneEmbedding)
                .build();
        TrainingJob job = gradualJob(dense, data, corpus, config, policy, pruneEmbedding);
        training.applyThreads();
        TrainingJob.Outcome outcome = job.run(ProgressListener.create("prune", spec.commandLine().getErr()));
        results.publish(outcome, out, spec.commandLine().getOut());
        return 0;
    }

    /**
     * A pruning run; measures the input model's held-out bpc first, since training changes it in place. Both use
     * the evaluator's fixed batching, as the trainer's final evaluation does, so the numbers compare.
     */
    static TrainingJob gradualJob(Model dense, Path data, CharCorpus corpus, TrainConfig config,
                                  GradualPruningPolicy policy, boolean includeEmbedding) {
        double inputBpc = Evaluator.bpc(dense, corpus.validation());
        return new TrainingJob(dense, data, corpus, config, policy, policy.predictedSparsity(), includeEmbedding,
                inputBpc);
    }

    /** Steps in one pass over the training split, the epoch of N17's schedule heuristics. */
    static long stepsPerEpoch(Model dense, CharCorpus corpus, TrainConfig config) {
        return Trainer.stepsPerEpoch(corpus, config, dense.architecture().bidirectional());
    }

    static void checkMethod(String name) {
        if (!METHODS.contains(name.toLowerCase(Locale.ROOT))) {
            throw new InvalidOptionException("--method", "unknown method '" + name + "' (available: "
                    + String.join(", ", METHODS) + ")");
        }
    }
}
