package dev.lacuna.cli;

import dev.lacuna.core.Model;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.pipeline.Json;
import dev.lacuna.pipeline.SchedulePlan;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna plan}: the gradual pruning schedule a {@code prune} run with the same options would use, its
 * sparsity preview on the dense weights and the predicted final sparsity, without training.
 */
@Command(name = "plan", sortOptions = false, usageHelpAutoWidth = true,
        description = "Show the gradual pruning schedule, a sparsity-vs-step preview and the predicted final sparsity"
                + " of a dense model, without training.")
final class PlanCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DENSE", description = "Trained dense checkpoint.")
    Path model;

    @Option(names = "--steps", required = true, paramLabel = "S", description = "Steps of the planned run.")
    long steps;

    @Option(names = "--target-sparsity", paramLabel = "S", description = "Sparsity to reach, in (0,1) (default:"
            + " q is the 90th percentile of |w|, the paper's rule).")
    Double targetSparsity;

    @Option(names = "--data", paramLabel = "TEXT", description = "The text of the planned run: sets the epoch length"
            + " that the default start step follows (without it, start is 5%% of the run).")
    Path data;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "Batch of the planned run"
            + " (default ${DEFAULT-VALUE}; only with --data).")
    int batch;

    @Option(names = "--seq", paramLabel = "T", defaultValue = "100", description = "Sequence length of the planned"
            + " run (default ${DEFAULT-VALUE}; only with --data).")
    int seq;

    @Mixin
    ScheduleOptions schedule;

    @Option(names = "--prune-embedding", description = "Also prune the embedding.")
    boolean pruneEmbedding;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        schedule.validate();
        if (steps < 1) {
            throw new dev.lacuna.core.InvalidOptionException("--steps", "must be positive, found " + steps);
        }
        Model dense = ModelFiles.read(model);
        long stepsPerEpoch = steps;
        if (data != null) {
            TrainConfig config = TrainConfig.builder().batch(batch).seq(seq).steps(steps).build();
            stepsPerEpoch = PruneCommand.stepsPerEpoch(dense, CharCorpus.load(data, dense.vocabulary()), config);
        }
        GradualPruningPolicy policy = schedule.applyTo(GradualPruningPolicy.builder(dense, steps, stepsPerEpoch))
                .targetSparsity(targetSparsity).includeEmbedding(pruneEmbedding).build();
        SchedulePlan plan = SchedulePlan.of(dense, policy, steps);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? Json.pretty(plan.toMap()) + System.lineSeparator() : plan.toText());
        out.flush();
        return 0;
    }
}
