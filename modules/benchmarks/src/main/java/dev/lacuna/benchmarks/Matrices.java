package dev.lacuna.benchmarks;

import java.util.SplittableRandom;

/** Seeded random weights and inputs for the benchmarks. */
final class Matrices {
    private Matrices() {
    }

    /** Parses a shape parameter such as {@code 2560x2560} into {rows, cols}. */
    static int[] shape(String text) {
        String[] parts = text.split("x");
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
    }

    /**
     * Row-major weights in [-1, 1] of which a fraction {@code sparsity} (each entry independently, as unstructured
     * magnitude pruning leaves them) is zero.
     */
    static float[] weights(int rows, int cols, double sparsity, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            if (random.nextDouble() >= sparsity) {
                w[i] = (float) (random.nextDouble() * 2 - 1);
            }
        }
        return w;
    }

    static float[] vector(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
