package dev.lacuna.io.format;

import java.util.Arrays;

/**
 * One-dimensional k-means with linear initialisation (Deep Compression §3.2: centroids evenly spaced between the
 * smallest and largest weight, the initialisation that keeps the rare large weights represented). On sorted values
 * every cluster is a contiguous run bounded by the midpoints between neighbouring centroids, so a Lloyd iteration
 * costs k binary searches over prefix sums instead of a pass over the weights. No randomness is involved.
 */
final class KMeans1D {
    static final int MAX_ITERATIONS = 300;

    private KMeans1D() {
    }

    /**
     * At most {@code k} centroids for {@code values} (finite, not all required distinct), ascending, without empty
     * clusters, each the float nearest to the mean of its cluster.
     */
    static float[] centroids(float[] values, int k) {
        if (values.length == 0) {
            return new float[0];
        }
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        float[] distinct = distinct(sorted);
        if (distinct.length <= k) {
            // Zero error, the optimum: and re-encoding weights that already share values (after centroid
            // fine-tuning) reproduces their codebook exactly instead of re-clustering it.
            return distinct;
        }
        double min = sorted[0];
        double max = sorted[sorted.length - 1];
        double[] centroids = new double[k];
        for (int j = 0; j < k; j++) {
            centroids[j] = k == 1 ? min : min + (max - min) * j / (k - 1);
        }
        int[] starts = new int[k + 1];
        for (int iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
            clusterBounds(sorted, centroids, starts);
            boolean moved = false;
            for (int j = 0; j < k; j++) {
                int count = starts[j + 1] - starts[j];
                if (count > 0) {
                    double sum = 0;
                    for (int i = starts[j]; i < starts[j + 1]; i++) {
                        sum += sorted[i];
                    }
                    double mean = sum / count;
                    moved |= mean != centroids[j];
                    centroids[j] = mean;
                }
            }
            if (!moved) {
                break;
            }
        }
        clusterBounds(sorted, centroids, starts);
        float[] out = new float[k];
        int used = 0;
        for (int j = 0; j < k; j++) {
            float c = (float) centroids[j];
            if (starts[j + 1] > starts[j] && (used == 0 || out[used - 1] != c)) {
                out[used++] = c;
            }
        }
        return Arrays.copyOf(out, used);
    }

    private static float[] distinct(float[] sorted) {
        float[] out = new float[sorted.length];
        int count = 0;
        for (float v : sorted) {
            if (count == 0 || out[count - 1] != v) {
                out[count++] = v;
            }
        }
        return Arrays.copyOf(out, count);
    }

    /** Index of the centroid nearest to {@code value}; on a tie the lower one. {@code centroids} ascending. */
    static int nearest(float[] centroids, float value) {
        int hi = Arrays.binarySearch(centroids, value);
        if (hi >= 0) {
            return hi;
        }
        hi = -hi - 1;
        if (hi == 0) {
            return 0;
        }
        if (hi == centroids.length) {
            return hi - 1;
        }
        double below = (double) value - centroids[hi - 1];
        double above = (double) centroids[hi] - value;
        return below <= above ? hi - 1 : hi;
    }

    /** starts[j] = first sorted index of cluster j; a value on a midpoint joins the lower cluster. */
    private static void clusterBounds(float[] sorted, double[] centroids, int[] starts) {
        int k = centroids.length;
        starts[0] = 0;
        for (int j = 1; j < k; j++) {
            double midpoint = (centroids[j - 1] + centroids[j]) / 2;
            starts[j] = Math.max(starts[j - 1], firstAbove(sorted, midpoint));
        }
        starts[k] = sorted.length;
    }

    private static int firstAbove(float[] sorted, double bound) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= bound) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
