package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Products split over threads: the same bits as on one thread (each row is computed by the same code whichever
 * thread runs it), parts balanced by work, small products left whole, failures and concurrent callers handled.
 */
class ThreadsTest {
    private static final int ROWS = 700;
    private static final int COLS = 600;

    @Test
    void partsAreBalancedByWorkAndSmallProductsStayWhole() {
        int unit = (int) RowSplit.MIN_WORK_PER_PART;
        int[] rowStart = new int[101];
        for (int r = 0; r < 100; r++) {
            // 3.4 units in all, 10/11 of it in the first half of the rows
            rowStart[r + 1] = rowStart[r] + (int) (3.4 * unit / 55 * (r < 50 ? 1.0 : 0.1));
        }
        RowSplit split = RowSplit.compressed(RowThreads.of(4), rowStart);
        assertEquals(3, split.parts(1)); // each part keeps at least one unit of work
        assertEquals(4, split.parts(2)); // twice the work, but no more parts than threads
        int[] two = split.bounds(2);
        assertEquals(0, two[0]);
        assertEquals(100, two[2]);
        assertTrue(two[1] > 25 && two[1] <= 28, "half the work lies before row 27.5, found " + two[1]);
        int[] four = split.bounds(4);
        for (int p = 0; p < 4; p++) {
            assertTrue(four[p] <= four[p + 1]);
        }

        int[] small = {0, unit / 2, unit - 1};
        RowSplit whole = RowSplit.compressed(RowThreads.of(4), small);
        assertEquals(1, whole.parts(1));
        assertEquals(4, whole.parts(7));
        assertEquals(1, RowSplit.compressed(RowThreads.of(1), rowStart).parts(16));
        assertSame(RowThreads.of(3), RowThreads.of(3));
        assertThrows(IllegalArgumentException.class, () -> RowThreads.of(0));
    }

    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"SPARSE", "DENSE"})
    void splitProductsEqualOneThreadBitForBit(KernelChoice choice) {
        float[] w = KernelTest.matrix(ROWS, COLS, 0.3, 1);
        boolean[] keep = new boolean[w.length];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = i % 7 != 0;
        }
        MatVec one = MatVec.of(w, keep, ROWS, COLS, choice, 1);
        for (int threads = 2; threads <= 4; threads++) {
            MatVec many = MatVec.of(w, keep, ROWS, COLS, choice, threads);
            int parts = many instanceof SparseMatrix sm ? sm.parts(1) : ((DenseMatrix) many).parts(1);
            assertEquals(threads, parts, "the test matrix is large enough to split " + threads + " ways");
            for (int batch : new int[] {1, 3, 8}) {
                float[] x = KernelTest.vector(COLS * batch, 10 + batch);
                float[] expected = KernelTest.vector(ROWS * batch, 20 + batch);
                float[] actual = expected.clone();
                one.multiplyAdd(x, expected, batch);
                many.multiplyAdd(x, actual, batch);
                assertArrayEquals(expected, actual, choice + ", " + threads + " threads, batch " + batch);
            }
        }
    }

    @Test
    void splitFusedProductsEqualOneThreadBitForBit() {
        int input = 300;
        int hidden = 400;
        float[] ih = KernelTest.matrix(ROWS, input, 0.4, 2);
        float[] hh = KernelTest.matrix(ROWS, hidden, 0.2, 3);
        FusedSparseMatrix one = FusedSparseMatrix.of(ih, null, hh, null, ROWS, input, hidden, RowThreads.of(1));
        FusedSparseMatrix two = FusedSparseMatrix.of(ih, null, hh, null, ROWS, input, hidden, RowThreads.of(2));
        assertEquals(2, two.parts());
        float[] xh = KernelTest.vector(input + hidden, 4);
        float[][] ys = {KernelTest.vector(ROWS, 5), KernelTest.vector(ROWS, 5)};
        one.multiplyAdd(xh, ys[0]);
        two.multiplyAdd(xh, ys[1]);
        assertArrayEquals(ys[0], ys[1], "whole rows");
        one.multiplyAddRecurrent(xh, ys[0]);
        two.multiplyAddRecurrent(xh, ys[1]);
        assertArrayEquals(ys[0], ys[1], "recurrent part");
        float[] x = KernelTest.vector(input * 4, 6);
        float[][] batch = {KernelTest.vector(ROWS * 4, 7), KernelTest.vector(ROWS * 4, 7)};
        one.multiplyAddInput(x, batch[0], 4);
        two.multiplyAddInput(x, batch[1], 4);
        assertArrayEquals(batch[0], batch[1], "input part, batch 4");
    }

    @Test
    void compiledModelsGiveTheSameLogitsOnEveryThreadCount() {
        List<Architecture> archs = List.of(
                new Architecture(CellType.LSTM, ParityTest.VOCAB.size(), 16, 256, 2, false, RnnActivation.TANH, true),
                new Architecture(CellType.GRU, ParityTest.VOCAB.size(), 16, 256, 2, false, RnnActivation.TANH, false),
                new Architecture(CellType.RNN, ParityTest.VOCAB.size(), 0, 512, 1, false, RnnActivation.RELU, true));
        for (Architecture arch : archs) {
            for (double sparsity : new double[] {0.0, 0.5}) {
                Model m = ParityTest.model(arch, sparsity, 7);
                KernelChoice choice = sparsity > 0 ? KernelChoice.SPARSE : KernelChoice.AUTO;
                CompiledModel one = CompiledModel.of(m, choice, 1);
                CompiledModel three = CompiledModel.of(m, choice, 3);
                assertEquals(3, three.threads());
                int[] ids = one.encode(ParityTest.TEXT.substring(0, 40));
                String at = arch.cell() + " sparsity " + sparsity;
                float[][] expected = one.sequenceLogits(ids);
                float[][] actual = three.sequenceLogits(ids);
                for (int t = 0; t < ids.length; t++) {
                    assertArrayEquals(expected[t], actual[t], at + ", window position " + t);
                }
                RecurrentState a = one.newState();
                RecurrentState b = three.newState();
                float[] la = new float[arch.vocabSize()];
                float[] lb = new float[arch.vocabSize()];
                for (int t = 0; t < ids.length; t++) {
                    one.step(a, ids[t], la);
                    three.step(b, ids[t], lb);
                    assertArrayEquals(la, lb, at + ", step " + t);
                }
            }
        }
    }

    @Test
    void aFailingPartIsRethrownAndTheHelpersStayUsable() {
        RowThreads threads = RowThreads.of(3);
        int[] bounds = {0, 10, 20, 30};
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> threads.run(bounds, (from, to) -> {
            if (from == 20) {
                throw new IllegalStateException("part from " + from);
            }
        }));
        assertEquals("part from 20", e.getMessage());
        int[] rows = new int[30];
        threads.run(bounds, (from, to) -> {
            for (int r = from; r < to; r++) {
                rows[r]++;
            }
        });
        for (int r = 0; r < 30; r++) {
            assertEquals(1, rows[r], "row " + r);
        }
    }

    @Test
    void parkedHelpersWakeAndConcurrentCallersGetTheirOwnResults() throws Exception {
        float[] w = KernelTest.matrix(ROWS, COLS, 0.5, 8);
        MatVec one = MatVec.of(w, null, ROWS, COLS, KernelChoice.SPARSE, 1);
        MatVec two = MatVec.of(w, null, ROWS, COLS, KernelChoice.SPARSE, 2);
        Thread.sleep(5 * RowThreads.SPIN_NANOS / 1_000_000 + 5); // long enough for the helpers to park
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                long seed = 30 + c;
                done.add(callers.submit(() -> {
                    for (int i = 0; i < 50; i++) {
                        float[] x = KernelTest.vector(COLS, seed + i);
                        float[] expected = new float[ROWS];
                        float[] actual = new float[ROWS];
                        one.multiplyAdd(x, expected);
                        two.multiplyAdd(x, actual);
                        assertArrayEquals(expected, actual, "caller " + seed + ", product " + i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            callers.shutdownNow();
        }
    }
}
