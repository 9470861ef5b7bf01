package dev.lacuna.core.prune;

import dev.lacuna.core.InvalidOptionException;

/**
 * Zhu &amp; Gupta's cubic sparsity schedule (ZG17; algorithms.md §5(a)): at the pruning steps
 * {@code t ∈ {t0, t0+Δt, …, t0+n·Δt}} each pruned tensor is masked to sparsity
 * {@code s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³}. Pruning is fast while redundancy is plentiful and slows
 * down as fewer weights remain; the last step reaches s_f exactly, after which the masks are frozen.
 *
 * <p>A pure function of the step. Instances are immutable.
 *
 * @param initial s_i, the sparsity applied at the first pruning step (0 in the paper, 0.05 in Distiller's examples)
 * @param target  s_f, the final sparsity
 * @param begin   t0, the first pruning step (0-based optimizer step)
 * @param freq    Δt, steps between pruning steps
 * @param count   n, the number of pruning steps after the first (so {@code n + 1} steps prune in all)
 */
public record AgpSchedule(double initial, double target, long begin, long freq, long count) {

    /**
     * @throws InvalidOptionException naming {@code --target-sparsity} unless s_f is in (0, 1), {@code --initial-sparsity}
     *                                unless s_i is in [0, s_f], {@code --start} for a negative t0, {@code --freq}
     *                                for Δt below 1 and {@code --end} for n below 1
     */
    public AgpSchedule {
        if (!(target > 0 && target < 1)) {
            throw new InvalidOptionException("--target-sparsity", "must be in (0, 1), found " + target);
        }
        if (!(initial >= 0 && initial <= target)) {
            throw new InvalidOptionException("--initial-sparsity", "must be in [0, target " + target + "], found "
                    + initial);
        }
        if (begin < 0) {
            throw new InvalidOptionException("--start", "must be 0 or more, found " + begin);
        }
        if (freq < 1) {
            throw new InvalidOptionException("--freq", "must be at least 1, found " + freq);
        }
        if (count < 1) {
            throw new InvalidOptionException("--end", "leaves room for no pruning step after the first one (start "
                    + begin + ", freq " + freq + ")");
        }
    }

    /**
     * The schedule over the pruning steps {@code range(start, end, freq)}, as Distiller's {@code AgpPruningRate}
     * resolves it: the span is {@code ((end − start − 1) // freq)·freq}, so the end step is exclusive and the last
     * pruning step reaches the target (algorithms.md §5(d), the library formula, not its notebook's).
     */
    public static AgpSchedule fromRange(double initial, double target, long start, long end, long freq) {
        if (freq < 1) {
            throw new InvalidOptionException("--freq", "must be at least 1, found " + freq);
        }
        if (end <= start) {
            throw new InvalidOptionException("--end", "must be after --start (" + start + "), found " + end);
        }
        return new AgpSchedule(initial, target, start, freq, (end - start - 1) / freq);
    }

    /** Whether the masks are recomputed before step {@code t}. */
    public boolean prunesAt(long t) {
        return t >= begin && t <= lastStep() && (t - begin) % freq == 0;
    }

    /** The last pruning step, {@code t0 + n·Δt}; the masks are frozen from then on. */
    public long lastStep() {
        return begin + count * freq;
    }

    /**
     * The scheduled sparsity at step {@code t}: 0 before t0, the cubic in between (evaluated at the continuous step,
     * so it also describes the preview between pruning steps), s_f from the last pruning step on.
     */
    public double sparsity(long t) {
        if (t < begin) {
            return 0;
        }
        if (t >= lastStep()) {
            return target;
        }
        double progress = (double) (t - begin) / (count * freq);
        double remaining = 1 - progress;
        return target + (initial - target) * remaining * remaining * remaining;
    }

    /** The sparsity the masks hold during step {@code t}: that of the latest pruning step at or before t. */
    public double sparsityInForce(long t) {
        if (t < begin) {
            return 0;
        }
        long last = Math.min(lastStep(), begin + (t - begin) / freq * freq);
        return sparsity(last);
    }
}
