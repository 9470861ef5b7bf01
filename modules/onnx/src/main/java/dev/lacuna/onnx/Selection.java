package dev.lacuna.onnx;

import java.util.Arrays;

/** Order statistics without a full sort: one-shot pruning needs only the k-th smallest magnitude. */
final class Selection {
    private Selection() {
    }

    /**
     * The k-th smallest value (1-based) of {@code values}, which is reordered. Quickselect with a median-of-three
     * pivot, O(n) on average; when partitioning stops shrinking the range fast enough (adversarial data) the
     * remaining range is sorted, which bounds the worst case at O(n log n).
     */
    static float kthSmallest(float[] values, int k) {
        if (k < 1 || k > values.length) {
            throw new IllegalArgumentException("k = " + k + " for " + values.length + " values");
        }
        int target = k - 1;
        int lo = 0;
        int hi = values.length - 1;
        int budget = 2 * (32 - Integer.numberOfLeadingZeros(values.length)) + 8;
        while (lo < hi) {
            if (budget-- == 0) {
                Arrays.sort(values, lo, hi + 1);
                return values[target];
            }
            float pivot = medianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // three-way partition: [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot
            int lt = lo;
            int gt = hi;
            int i = lo;
            while (i <= gt) {
                float v = values[i];
                if (Float.compare(v, pivot) < 0) {
                    swap(values, lt++, i++);
                } else if (Float.compare(v, pivot) > 0) {
                    swap(values, i, gt--);
                } else {
                    i++;
                }
            }
            if (target < lt) {
                hi = lt - 1;
            } else if (target > gt) {
                lo = gt + 1;
            } else {
                return pivot;
            }
        }
        return values[target];
    }

    private static float medianOfThree(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    private static void swap(float[] values, int i, int j) {
        float t = values[i];
        values[i] = values[j];
        values[j] = t;
    }
}
