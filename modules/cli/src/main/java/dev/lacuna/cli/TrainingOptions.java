package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.train.OptimizerKind;
import dev.lacuna.train.TrainConfig;
import picocli.CommandLine.Option;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training options shared by {@code train} and {@code prune} (a picocli mixin). An option left out keeps the
 * {@link TrainConfig} default, except the learning rate, whose default depends on the command: fine-tuning a
 * trained model during pruning wants a smaller step than training from scratch.
 */
final class TrainingOptions {
    @Option(names = "--batch", paramLabel = "B", description = "Parallel text streams per step (default 32).")
    Integer batch;

    @Option(names = "--seq", paramLabel = "T", description = "Characters per stream per step, the truncated-BPTT"
            + " length (default 100).")
    Integer seq;

    @Option(names = "--optimizer", paramLabel = "adam|sgd", description = "Optimizer (default adam).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "RATE", description = "Learning rate (default: train 2e-3, prune 1e-3).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "M", description = "SGD momentum (default 0.9).")
    Double momentum;

    @Option(names = "--clip", paramLabel = "NORM", description = "Clip gradients to this global L2 norm (default 5).")
    Double clip;

    @Option(names = "--lr-decay", paramLabel = "FACTOR", description = "Multiply the learning rate by FACTOR every"
            + " --lr-decay-every steps (default: no decay).")
    Double lrDecay;

    @Option(names = "--lr-decay-every", paramLabel = "STEPS", description = "Steps between learning-rate decays.")
    Long lrDecayEvery;

    @Option(names = "--eval-every", paramLabel = "STEPS", description = "Measure held-out bpc every STEPS steps"
            + " (default 0: only at the end).")
    Long evalEvery;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the BLAS matrix products (default 2)."
            + " Element-wise ops follow OMP_NUM_THREADS, which the launcher sets to 1.")
    Integer threads;

    static final int DEFAULT_THREADS = 2;

    /**
     * Sets ND4J's BLAS pool. Only the GEMMs are worth a second thread here; libgomp's element-wise ops spin-wait and
     * collapse on a shared machine, so they stay on OMP_NUM_THREADS (platform-notes.md).
     */
    int applyThreads() {
        int n = threads != null ? threads : DEFAULT_THREADS;
        if (n < 1) {
            throw new InvalidOptionException("--threads", "must be positive, found " + n);
        }
        useBlasThreads(n);
        return n;
    }

    static void useBlasThreads(int n) {
        Nd4j.factory().blas().setMaxThreads(n);
    }

    /** The resolved configuration; {@link TrainConfig} validates it and names the offending option. */
    TrainConfig toConfig(long steps, long seed, double defaultLr) {
        // TrainConfig reads 0 steps as "one epoch"; a pruning schedule needs the run's length up front.
        if (steps < 1) {
            throw new InvalidOptionException("--steps", "must be positive, found " + steps);
        }
        TrainConfig.Builder builder = TrainConfig.builder().steps(steps).seed(seed).lr(lr != null ? lr : defaultLr);
        if (batch != null) {
            builder.batch(batch);
        }
        if (seq != null) {
            builder.seq(seq);
        }
        if (optimizer != null) {
            builder.optimizer(OptimizerKind.parse("--optimizer", optimizer));
        }
        if (momentum != null) {
            builder.momentum(momentum);
        }
        if (clip != null) {
            builder.clip(clip);
        }
        if (lrDecay != null) {
            builder.lrDecay(lrDecay);
        }
        if (lrDecayEvery != null) {
            builder.lrDecayEvery(lrDecayEvery);
        }
        if (evalEvery != null) {
            builder.evalEvery(evalEvery);
        }
        return builder.build();
    }
}
