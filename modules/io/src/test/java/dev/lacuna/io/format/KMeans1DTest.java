package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KMeans1DTest {
    @Test
    void separatedGroupsGiveTheirMeans() {
        float[] values = {-1.0f, -1.1f, -0.9f, 0.5f, 0.6f, 0.7f, 3.0f};
        float[] centroids = KMeans1D.centroids(values, 3);
        assertArrayEquals(new float[] {-1.0f, 0.6f, 3.0f}, centroids, 1e-6f);
    }

    @Test
    void emptyClustersAreDroppedAndARepeatedValueIsExact() {
        float[] values = new float[100];
        java.util.Arrays.fill(values, -0.37f);
        assertArrayEquals(new float[] {-0.37f}, KMeans1D.centroids(values, 32));
    }

    @Test
    void valuesThatAlreadyShareFewEnoughValuesKeepThemExactly() {
        // Fine-tuned centroids must survive re-encoding bit for bit, whatever Lloyd's iterations would do.
        float[] values = {0.30000001f, -0.7f, 0.30000001f, 0.31f, -0.7f, 2.5f};
        assertArrayEquals(new float[] {-0.7f, 0.30000001f, 0.31f, 2.5f}, KMeans1D.centroids(values, 4));
    }

    @Test
    void convergedCentroidsAreTheMeansOfTheirNearestValues() {
        SplittableRandom random = new SplittableRandom(3);
        float[] values = new float[5000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian(0, 0.2);
        }
        float[] centroids = KMeans1D.centroids(values, 16);
        assertTrue(centroids.length <= 16 && centroids.length >= 12, "centroids: " + centroids.length);
        double[] sums = new double[centroids.length];
        int[] counts = new int[centroids.length];
        for (float v : values) {
            int c = KMeans1D.nearest(centroids, v);
            sums[c] += v;
            counts[c]++;
        }
        for (int c = 0; c < centroids.length; c++) {
            assertTrue(counts[c] > 0);
            assertEquals(sums[c] / counts[c], centroids[c], 1e-6, "centroid " + c + " is not its cluster's mean");
        }
        assertArrayEquals(centroids, KMeans1D.centroids(values, 16), "deterministic");
    }

    @Test
    void linearInitialisationKeepsRareLargeWeights() {
        // Deep Compression §3.2: one large weight among many small ones keeps a centroid of its own.
        float[] values = new float[1001];
        for (int i = 0; i < 1000; i++) {
            values[i] = (i % 20 - 10) * 0.001f;
        }
        values[1000] = 5f;
        float[] centroids = KMeans1D.centroids(values, 4);
        assertEquals(5f, centroids[centroids.length - 1]);
    }

    @Test
    void nearestPrefersTheLowerCentroidOnATie() {
        float[] centroids = {-1f, 1f};
        assertEquals(0, KMeans1D.nearest(centroids, 0f));
        assertEquals(1, KMeans1D.nearest(centroids, 0.01f));
        assertEquals(0, KMeans1D.nearest(centroids, -7f));
        assertEquals(1, KMeans1D.nearest(centroids, 7f));
    }
}
