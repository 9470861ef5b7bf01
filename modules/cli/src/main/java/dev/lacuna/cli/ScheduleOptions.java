package dev.lacuna.cli;

import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.QMode;
import dev.lacuna.core.prune.ScheduleSteps;
import picocli.CommandLine.Option;

/**
 * The N17 schedule's settings (algorithms.md §1: q, its grouping, start/ramp/end/freq and φ/θ), a picocli mixin of
 * {@code prune}, which runs a schedule, and {@code plan}, which shows one before training: both must read them alike.
 */
final class ScheduleOptions {
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

    /** Checks {@code --q-mode} before any work starts. */
    void validate() {
        QMode.parse(qMode);
    }

    /** Sets the schedule's steps, φ/θ and q on a gradual policy's builder. */
    GradualPruningPolicy.Builder applyTo(GradualPruningPolicy.Builder builder) {
        return builder.start(start).ramp(ramp).end(end).freq(freq).rampRatio(rampRatio).q(q)
                .qMode(QMode.parse(qMode));
    }

    /** The pruning window these options give a run of {@code steps} steps (AGP uses start, end and freq). */
    ScheduleSteps window(long steps, long stepsPerEpoch) {
        return ScheduleSteps.resolve(steps, stepsPerEpoch, start, ramp, end, freq);
    }
}
