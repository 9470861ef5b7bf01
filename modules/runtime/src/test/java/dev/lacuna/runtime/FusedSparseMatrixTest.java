package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The row-split matrix over [x; h] against naive double-precision products of its two parts. */
class FusedSparseMatrixTest {
    private static final int ROWS = 53;
    private static final int INPUT = 19;
    private static final int HIDDEN = 23;

    /** y + W_ih x + W_hh h for one vector, in double; either matrix may be null (left out). */
    private static double[] reference(float[] ih, boolean[] ihKeep, float[] hh, boolean[] hhKeep, float[] xh,
            float[] y) {
        double[] out = new double[ROWS];
        for (int r = 0; r < ROWS; r++) {
            double s = y[r];
            for (int c = 0; ih != null && c < INPUT; c++) {
                int i = r * INPUT + c;
                s += ihKeep == null || ihKeep[i] ? (double) ih[i] * xh[c] : 0;
            }
            for (int c = 0; hh != null && c < HIDDEN; c++) {
                int i = r * HIDDEN + c;
                s += hhKeep == null || hhKeep[i] ? (double) hh[i] * xh[INPUT + c] : 0;
            }
            out[r] = s;
        }
        return out;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * (1 + Math.abs(expected[i])), what + " at " + i);
        }
    }

    private static boolean[] randomMask(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            keep[i] = random.nextDouble() < 0.6;
        }
        return keep;
    }

    @Test
    void wholeRowsInputPartAndRecurrentPartMatchTheSeparateProducts() {
        for (double density : new double[] {0.0, 0.05, 0.1, 0.5, 1.0}) {
            float[] ih = KernelTest.matrix(ROWS, INPUT, density, 1); // every third row empty
            float[] hh = KernelTest.matrix(ROWS, HIDDEN, density, 2);
            boolean[] hhKeep = randomMask(hh.length, 3);
            FusedSparseMatrix m = FusedSparseMatrix.of(ih, null, hh, hhKeep, ROWS, INPUT, HIDDEN, RowThreads.of(1));
            float[] xh = KernelTest.vector(INPUT + HIDDEN, 4);
            String at = "density " + density;

            float[] y = KernelTest.vector(ROWS, 5);
            double[] expected = reference(ih, null, hh, hhKeep, xh, y);
            m.multiplyAdd(xh, y);
            assertClose(expected, y, at + ", whole rows");

            y = KernelTest.vector(ROWS, 6);
            expected = reference(ih, null, null, null, xh, y);
            m.multiplyAddInput(xh, y, 1);
            assertClose(expected, y, at + ", input part");

            y = KernelTest.vector(ROWS, 7);
            expected = reference(null, null, hh, hhKeep, xh, y);
            m.multiplyAddRecurrent(xh, y);
            assertClose(expected, y, at + ", recurrent part");
        }
    }

    @Test
    void inputPartOfInterleavedBatchesFrom2To16() {
        float[] ih = KernelTest.matrix(ROWS, INPUT, 0.2, 8);
        float[] hh = KernelTest.matrix(ROWS, HIDDEN, 0.2, 9);
        boolean[] ihKeep = randomMask(ih.length, 10);
        FusedSparseMatrix m = FusedSparseMatrix.of(ih, ihKeep, hh, null, ROWS, INPUT, HIDDEN, RowThreads.of(1));
        for (int batch = 2; batch <= 16; batch++) {
            float[] x = KernelTest.vector(INPUT * batch, 20 + batch);
            float[] y = KernelTest.vector(ROWS * batch, 40 + batch);
            double[] expected = KernelTest.reference(ih, ihKeep, ROWS, INPUT, x, y, batch);
            m.multiplyAddInput(x, y, batch);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], y[i], 1e-5 * (1 + Math.abs(expected[i])), "batch " + batch + " at " + i);
            }
        }
    }

    @Test
    void countsOnlyKeptNonZerosAndTheirBytes() {
        float[] ih = KernelTest.matrix(ROWS, INPUT, 1.0, 11);
        float[] hh = KernelTest.matrix(ROWS, HIDDEN, 1.0, 12);
        boolean[] ihKeep = randomMask(ih.length, 13);
        long kept = 0;
        for (int i = 0; i < ih.length; i++) {
            kept += ihKeep[i] && ih[i] != 0f ? 1 : 0;
        }
        for (float w : hh) {
            kept += w != 0f ? 1 : 0;
        }
        FusedSparseMatrix m = FusedSparseMatrix.of(ih, ihKeep, hh, null, ROWS, INPUT, HIDDEN, RowThreads.of(1));
        assertEquals(kept, m.nonZeros());
        assertEquals(6 * kept + 4L * (ROWS + 1) + 4L * ROWS, m.bytes());
        assertEquals(INPUT, m.inputCols());
        assertEquals(ROWS, m.rows());
    }

    @Test
    void refusesMismatchedShapesBuffersAndIndicesBeyond16Bits() {
        assertTrue(FusedSparseMatrix.fits(1 << 15, 1 << 15));
        assertFalse(FusedSparseMatrix.fits(1 << 16, 1));
        assertThrows(IllegalArgumentException.class,
                () -> FusedSparseMatrix.of(new float[10], null, new float[9], null, 3, 3, 3, RowThreads.of(1)));
        FusedSparseMatrix m = FusedSparseMatrix.of(new float[6], null, new float[9], null, 3, 2, 3, RowThreads.of(1));
        assertThrows(IllegalArgumentException.class, () -> m.multiplyAdd(new float[4], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> m.multiplyAddRecurrent(new float[5], new float[2]));
        assertThrows(IllegalArgumentException.class, () -> m.multiplyAddInput(new float[3], new float[6], 2));
    }
}
