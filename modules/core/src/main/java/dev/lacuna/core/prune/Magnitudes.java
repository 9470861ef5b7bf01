package dev.lacuna.core.prune;

import java.util.Arrays;
import java.util.List;

/** Sorted absolute values of one or more weight arrays, and order statistics over them. */
public final class Magnitudes {
    private final float[] sorted;

    private Magnitudes(float[] sorted) {
        this.sorted = sorted;
    }

    /** The pooled |w| of all arrays, sorted ascending. */
    static Magnitudes of(List<float[]> arrays) {
        int n = 0;
        for (float[] a : arrays) {
            n = Math.addExact(n, a.length);
        }
        float[] abs = new float[n];
        int i = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                abs[i++] = Math.abs(v);
            }
        }
        Arrays.sort(abs);
        return new Magnitudes(abs);
    }

    /**
     * How many entries of an ascending array of magnitudes are at or below {@code threshold}: the number of weights
     * a magnitude threshold prunes (binary search, so a schedule can be previewed at every refresh cheaply).
     */
    public static long countAtOrBelow(float[] sortedAbs, double threshold) {
        int lo = 0;
        int hi = sortedAbs.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sortedAbs[mid] <= threshold) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    int size() {
        return sorted.length;
    }

    /**
     * The {@code p}-th percentile (0 ≤ p ≤ 100) with numpy's default "linear" method, so users can cross-check with
     * {@code np.percentile(np.abs(w), p)}: the value at fractional index p/100·(n − 1), interpolated between its two
     * neighbours. The interpolation is written as numpy's {@code _lerp} (from the upper neighbour when the fraction
     * is at least 0.5), which keeps the result monotone and exact at the neighbours.
     */
    double percentile(double p) {
        double index = p / 100.0 * (sorted.length - 1);
        int below = (int) Math.floor(index);
        int above = Math.min(below + 1, sorted.length - 1);
        double fraction = index - below;
        double a = sorted[below];
        double b = sorted[above];
        double diff = b - a;
        return fraction >= 0.5 ? b - diff * (1 - fraction) : a + diff * fraction;
    }

    /**
     * The threshold that prunes the {@code round(fraction·n)} smallest magnitudes under the rule "keep |w| &gt; ε":
     * the largest of them, or 0 when none is to be pruned. Weights tied with it are pruned too.
     */
    double thresholdPruning(double fraction) {
        long k = Math.round(fraction * sorted.length);
        return k == 0 ? 0 : sorted[(int) k - 1];
    }
}
