package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;

/**
 * The step boundaries of an N17 pruning schedule (N17 Alg. 1, Table 1). Steps are 0-based optimizer steps.
 *
 * <p>Masks are refreshed at every step {@code t} with {@code start < t < end} and {@code t mod freq == 0}; the
 * inequalities are strict as in N17 Alg. 1 so that results compare bit for bit with Distiller and puhsu/pruning.
 *
 * @param start first step of the threshold ramp (S); the threshold is 0 before it
 * @param ramp  step from which the threshold grows with the steeper ramp slope (R)
 * @param end   step from which the masks are frozen (E)
 * @param freq  masks are refreshed every {@code freq} steps (f)
 */
public record ScheduleSteps(long start, long ramp, long end, long freq) {

    /** N17 Table 2: refresh the masks every 100 iterations. */
    public static final long DEFAULT_FREQ = 100;

    /**
     * Short runs still get about this many refreshes: the default frequency is capped at (E − S) / this.
     */
    static final long MIN_DEFAULT_REFRESHES = 10;

    /**
     * @throws InvalidOptionException naming {@code --start}, {@code --ramp}, {@code --end} or {@code --freq} unless
     *                                0 ≤ start &lt; ramp &lt; end, freq ≥ 1, and at least one refresh step lies
     *                                strictly between start and end
     */
    public ScheduleSteps {
        if (start < 0) {
            throw new InvalidOptionException("--start", "must be 0 or more, found " + start);
        }
        if (ramp <= start) {
            throw new InvalidOptionException("--ramp", "must be after --start (" + start + "), found " + ramp);
        }
        if (end <= ramp) {
            throw new InvalidOptionException("--end", "must be after --ramp (" + ramp + "), found " + end);
        }
        if (freq < 1) {
            throw new InvalidOptionException("--freq", "must be at least 1, found " + freq);
        }
        if (lastRefreshOrNone(start, end, freq) < 0) {
            // Without a refresh the schedule would silently prune nothing.
            throw new InvalidOptionException("--freq", "no multiple of " + freq + " lies strictly between --start ("
                    + start + ") and --end (" + end + "), so the masks would never be refreshed");
        }
    }

    /**
     * The N17 Table 2 heuristics for a run of {@code totalSteps} optimizer steps; see
     * {@link #resolve(long, long, Long, Long, Long, Long)}.
     */
    public static ScheduleSteps defaults(long totalSteps, long stepsPerEpoch) {
        return resolve(totalSteps, stepsPerEpoch, null, null, null, null);
    }

    /**
     * Schedule steps for a run of {@code totalSteps} optimizer steps: each non-null override wins, every other value
     * follows the N17 Table 2 heuristics.
     * <ul>
     *   <li>start: the start of the second epoch ({@code stepsPerEpoch}); when that is more than 10% of the run
     *       (short runs of a few epochs), 5% of the steps instead, so that pruning still has room to ramp;</li>
     *   <li>ramp: 25% of the steps; end: 50% of the steps (N17 counts whole epochs; steps are finer and agree with
     *       it whenever the epoch count is a multiple of 4);</li>
     *   <li>freq: 100 (N17), but at most (end − start) / 10 and at least 1. <em>Deviation from N17:</em> the paper
     *       ran for hundreds of thousands of steps; a short run with freq 100 would refresh the masks only a handful
     *       of times and prune in large jumps, so the cap keeps about ten refreshes.</li>
     * </ul>
     *
     * @throws IllegalArgumentException when {@code totalSteps} or {@code stepsPerEpoch} is below 1 (the trainer
     *                                  computes these; it must reject empty data sets itself)
     * @throws InvalidOptionException   naming the offending option when the resolved steps are inconsistent, or
     *                                  {@code --end} when the end lies past the run
     */
    public static ScheduleSteps resolve(long totalSteps, long stepsPerEpoch, Long start, Long ramp, Long end,
                                        Long freq) {
        if (totalSteps < 1 || stepsPerEpoch < 1) {
            throw new IllegalArgumentException("a run needs at least one step and one step per epoch, found "
                    + totalSteps + " steps and " + stepsPerEpoch + " per epoch");
        }
        long s = start != null ? start
                : stepsPerEpoch <= percentOf(totalSteps, 10) ? stepsPerEpoch : percentOf(totalSteps, 5);
        long r = ramp != null ? ramp : percentOf(totalSteps, 25);
        long e = end != null ? end : percentOf(totalSteps, 50);
        long f = freq != null ? freq : Math.max(1, Math.min(DEFAULT_FREQ, (e - s) / MIN_DEFAULT_REFRESHES));
        ScheduleSteps steps = new ScheduleSteps(s, r, e, f);
        if (e > totalSteps) {
            throw new InvalidOptionException("--end", "step " + e + " lies past the run of " + totalSteps + " steps");
        }
        return steps;
    }

    private static long percentOf(long total, int percent) {
        return Math.multiplyExact(total, percent) / 100;
    }

    /** Whether the masks are refreshed before step {@code t}: {@code start < t < end} and {@code t mod freq == 0}. */
    public boolean refreshesAt(long t) {
        return start < t && t < end && t % freq == 0;
    }

    /** The last step at which the masks are refreshed; from then on they are frozen. */
    public long lastRefresh() {
        return lastRefreshOrNone(start, end, freq);
    }

    /** The number of mask refreshes in the whole schedule. */
    public long refreshCount() {
        long first = (start / freq + 1) * freq;
        return (lastRefresh() - first) / freq + 1;
    }

    private static long lastRefreshOrNone(long start, long end, long freq) {
        long last = (end - 1) / freq * freq;
        return last > start ? last : -1;
    }
}
