package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SelectionTest {
    @Test
    void agreesWithSortingOnRandomAndHeavilyTiedData() {
        SplittableRandom random = new SplittableRandom(1);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(500);
            float[] values = new float[n];
            boolean tied = trial % 2 == 0;
            for (int i = 0; i < n; i++) {
                values[i] = tied ? random.nextInt(4) : (float) random.nextGaussian();
            }
            float[] sorted = values.clone();
            Arrays.sort(sorted);
            int k = 1 + random.nextInt(n);
            assertEquals(sorted[k - 1], Selection.kthSmallest(values.clone(), k), "n=" + n + " k=" + k);
        }
    }

    @Test
    void sortedAndConstantInputsStayCorrect() {
        float[] ascending = new float[10_000];
        for (int i = 0; i < ascending.length; i++) {
            ascending[i] = i;
        }
        assertEquals(4999f, Selection.kthSmallest(ascending.clone(), 5000));
        assertEquals(7f, Selection.kthSmallest(new float[1000], 1) + 7f);
        assertThrows(IllegalArgumentException.class, () -> Selection.kthSmallest(new float[3], 4));
    }
}
