package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Every kernel against a naive double-precision product on matrices with awkward structure. */
class KernelTest {

    /** Random weights at the given density, with every third row emptied. */
    static float[] matrix(int rows, int cols, double density, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            if (r % 3 == 1) {
                continue;
            }
            for (int c = 0; c < cols; c++) {
                if (random.nextDouble() < density) {
                    w[r * cols + c] = (float) (random.nextDouble() * 2 - 1);
                }
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

    /** y + W x for interleaved batches, in double. */
    static double[] reference(float[] w, boolean[] keep, int rows, int cols, float[] x, float[] y, int batch) {
        double[] out = new double[rows * batch];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < batch; b++) {
                double s = y[r * batch + b];
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    if (keep == null || keep[i]) {
                        s += (double) w[i] * x[c * batch + b];
                    }
                }
                out[r * batch + b] = s;
            }
        }
        return out;
    }

    static void check(MatVec m, float[] w, boolean[] keep, int rows, int cols, int batch, long seed) {
        float[] x = vector(cols * batch, seed);
        float[] y = vector(rows * batch, seed + 1);
        double[] expected = reference(w, keep, rows, cols, x, y, batch);
        m.multiplyAdd(x, y, batch);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], y[i], 1e-4 * (1 + Math.abs(expected[i])),
                    m.getClass().getSimpleName() + " " + rows + "x" + cols + " batch " + batch + " at " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"SPARSE", "DENSE"})
    void matchesNaiveProductForEveryBatchFrom1To16(KernelChoice choice) {
        int rows = 67;
        int cols = 45;
        for (double density : new double[] {0.0, 0.02, 0.1, 0.5, 1.0}) {
            float[] w = matrix(rows, cols, density, 11);
            MatVec m = MatVec.of(w, null, rows, cols, choice);
            assertEquals(choice == KernelChoice.SPARSE, m.sparse());
            for (int batch = 1; batch <= 16; batch++) {
                check(m, w, null, rows, cols, batch, 100 + batch);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"SPARSE", "DENSE"})
    void allZeroAndSingleNonZeroMatrices(KernelChoice choice) {
        float[] zero = new float[30 * 20];
        MatVec empty = MatVec.of(zero, null, 30, 20, choice);
        assertEquals(0, empty.nonZeros());
        check(empty, zero, null, 30, 20, 1, 5);
        check(empty, zero, null, 30, 20, 7, 5);

        float[] one = new float[30 * 20];
        one[17 * 20 + 3] = 2.5f;
        MatVec single = MatVec.of(one, null, 30, 20, choice);
        assertEquals(1, single.nonZeros());
        float[] x = new float[20];
        x[3] = 4f;
        float[] y = new float[30];
        single.multiplyAdd(x, y);
        for (int r = 0; r < 30; r++) {
            assertEquals(r == 17 ? 10f : 0f, y[r]);
        }
        check(single, one, null, 30, 20, 16, 9);
    }

    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"SPARSE", "DENSE"})
    void masksRemoveWeightsEvenWhenTheirValuesAreNotZero(KernelChoice choice) {
        int rows = 12;
        int cols = 9;
        float[] w = matrix(rows, cols, 1.0, 3);
        boolean[] keep = new boolean[w.length];
        SplittableRandom random = new SplittableRandom(4);
        int kept = 0;
        for (int i = 0; i < keep.length; i++) {
            keep[i] = random.nextDouble() < 0.3;
            if (keep[i] && w[i] != 0f) {
                kept++;
            }
        }
        MatVec m = MatVec.of(w, keep, rows, cols, choice);
        assertEquals(kept, m.nonZeros());
        check(m, w, keep, rows, cols, 1, 21);
        check(m, w, keep, rows, cols, 4, 22);
    }

    @Test
    void wideColumnIndicesBeyond16Bits() {
        int rows = 3;
        int cols = 70_000;
        float[] w = matrix(rows, cols, 0.01, 8);
        w[2 * cols + 69_999] = 1.5f; // a column only a 32-bit index can address
        MatVec m = MatVec.of(w, null, rows, cols, KernelChoice.SPARSE);
        check(m, w, null, rows, cols, 1, 31);
        check(m, w, null, rows, cols, 3, 32);
        assertEquals(4L * m.nonZeros() * 2 + 4L * (rows + 1), m.bytes());
    }

    @Test
    void narrowIndicesCostSixBytesPerNonZero() {
        float[] w = matrix(256, 256, 0.1, 12);
        MatVec m = MatVec.of(w, null, 256, 256, KernelChoice.SPARSE);
        assertEquals(6L * m.nonZeros() + 4L * 257, m.bytes());
    }

    @Test
    void autoChoosesByDensity() {
        assertTrue(MatVec.of(matrix(90, 90, 0.05, 1), null, 90, 90, KernelChoice.AUTO).sparse());
        assertFalse(MatVec.of(matrix(90, 90, 0.9, 1), null, 90, 90, KernelChoice.AUTO).sparse());
    }

    @Test
    void refusesMismatchedShapesAndBuffers() {
        assertThrows(IllegalArgumentException.class, () -> MatVec.of(new float[10], null, 3, 3, KernelChoice.AUTO));
        MatVec m = MatVec.of(new float[12], null, 3, 4, KernelChoice.SPARSE);
        assertThrows(IllegalArgumentException.class, () -> m.multiplyAdd(new float[3], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> m.multiplyAdd(new float[8], new float[3], 2));
    }

    @Test
    void oneHotColumnsEqualTheProductWithAOneHotVector() {
        int rows = 40;
        int vocab = 13;
        for (KernelChoice choice : new KernelChoice[] {KernelChoice.SPARSE, KernelChoice.DENSE}) {
            float[] w = matrix(rows, vocab, 0.2, 5);
            OneHotInput input = OneHotInput.of(w, null, rows, vocab, choice);
            for (int symbol = 0; symbol < vocab; symbol++) {
                float[] x = new float[vocab];
                x[symbol] = 1f;
                float[] viaProduct = new float[rows];
                input.multiplyAdd(x, viaProduct);
                float[] interleaved = new float[rows * 3];
                input.addColumn(symbol, interleaved, 1, 3);
                for (int r = 0; r < rows; r++) {
                    assertEquals(w[r * vocab + symbol], viaProduct[r]);
                    assertEquals(w[r * vocab + symbol], interleaved[r * 3 + 1]);
                    assertEquals(0f, interleaved[r * 3]);
                }
            }
        }
    }
}
