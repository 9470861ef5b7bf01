package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;

/**
 * The N17 pruning threshold as a pure function of the optimizer step (N17 Alg. 1, algorithms.md §1(a)).
 *
 * <pre>
 *   t &lt; S:       ε(t) = 0
 *   S ≤ t &lt; R:   ε(t) = θ·(t − S + 1) / f
 *   R ≤ t &lt; E:   ε(t) = [θ·(R − S + 1) + φ·(t − R + 1)] / f
 *   t ≥ E:       ε(t) = ε(last refresh)      (masks are frozen from E on)
 * </pre>
 * The {@code +1} terms are the paper's and are kept for bit-exact comparison with Distiller and puhsu/pruning. Masks
 * only change at refresh steps ({@link #refreshesAt(long)}), so the threshold in force between two refreshes is the
 * one of the earlier refresh; {@link #threshold(long)} nevertheless returns the formula's value for every step before
 * E, and from E on the value of the last refresh, the threshold the frozen masks were made with. The value therefore
 * drops at E (from ε(E − 1) to ε(last refresh)); across refresh steps it never decreases.
 *
 * @param start      S, first step of the ramp
 * @param ramp       R, step from which the slope is {@code rampSlope}
 * @param end        E, step from which the masks are frozen
 * @param freq       f, steps between mask refreshes
 * @param startSlope θ, threshold growth per f steps on [S, R)
 * @param rampSlope  φ, threshold growth per f steps on [R, E)
 */
public record GradualSchedule(long start, long ramp, long end, long freq, double startSlope, double rampSlope) {

    /** N17 Eq. 1 assumes φ = 1.5·θ. */
    public static final double DEFAULT_RAMP_RATIO = 1.5;

    /**
     * @throws InvalidOptionException naming the option behind a bad value: {@code --start}, {@code --ramp},
     *                                {@code --end}, {@code --freq} (see {@link ScheduleSteps}), {@code --q} for a
     *                                negative or non-finite start slope, {@code --ramp-ratio} for the ramp slope
     */
    public GradualSchedule {
        new ScheduleSteps(start, ramp, end, freq);
        requireNonNegativeFinite("--q", "start slope", startSlope);
        requireNonNegativeFinite("--ramp-ratio", "ramp slope", rampSlope);
    }

    /**
     * The schedule whose threshold reaches about {@code q} at the end of pruning: N17 Eq. 1 generalised to any ramp
     * ratio r = φ/θ, θ = q·f / ((R − S) + r·(E − R)). For r = 1.5 this is the paper's 2qf / (2(R − S) + 3(E − R)).
     *
     * @param q         the reference magnitude (N17: the 90th percentile of |w| of a trained dense model)
     * @param rampRatio r = φ/θ; N17 uses 1.5, Distiller allows up to 2
     * @throws InvalidOptionException naming {@code --q}, {@code --ramp-ratio} or a step option
     */
    public static GradualSchedule fromQ(double q, long start, long ramp, long end, long freq, double rampRatio) {
        return fromQ(q, new ScheduleSteps(start, ramp, end, freq), rampRatio);
    }

    /** {@link #fromQ(double, long, long, long, long, double)} with the steps given as a record. */
    public static GradualSchedule fromQ(double q, ScheduleSteps steps, double rampRatio) {
        requireNonNegativeFinite("--q", "q", q);
        requireNonNegativeFinite("--ramp-ratio", "the ramp ratio", rampRatio);
        double span = (steps.ramp() - steps.start()) + rampRatio * (steps.end() - steps.ramp());
        double theta = q * steps.freq() / span;
        return new GradualSchedule(steps.start(), steps.ramp(), steps.end(), steps.freq(), theta, rampRatio * theta);
    }

    /** The step boundaries of this schedule. */
    public ScheduleSteps steps() {
        return new ScheduleSteps(start, ramp, end, freq);
    }

    /** The pruning threshold at step {@code t}; see the class comment for the frozen value from E on. */
    public double threshold(long t) {
        if (t < start) {
            return 0;
        }
        return formula(t < end ? t : lastRefresh());
    }

    /** The threshold of the last refresh, which the final masks are made with. */
    public double finalThreshold() {
        return formula(lastRefresh());
    }

    private double formula(long t) {
        if (t < ramp) {
            return startSlope * (t - start + 1) / freq;
        }
        return (startSlope * (ramp - start + 1) + rampSlope * (t - ramp + 1)) / freq;
    }

    /** Whether the masks are refreshed before step {@code t}: strictly S &lt; t &lt; E and t mod f == 0. */
    public boolean refreshesAt(long t) {
        return start < t && t < end && t % freq == 0;
    }

    /** The last refresh step: the largest multiple of f strictly between S and E. */
    public long lastRefresh() {
        return steps().lastRefresh();
    }

    private static void requireNonNegativeFinite(String option, String what, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new InvalidOptionException(option, what + " must be a finite number of 0 or more, found " + value);
        }
    }
}
