package dev.lacuna.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;

class CharRnnNetworkTest {
    private static final Vocabulary VOCAB = Vocabulary.of("abcde");

    private static Architecture arch(CellType cell, boolean bidirectional) {
        return new Architecture(cell, 5, 3, 6, 2, bidirectional, RnnActivation.TANH, true);
    }

    private static int[][] ids(long seed, int batch, int time) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] out = new int[batch][time];
        for (int[] row : out) {
            for (int t = 0; t < time; t++) {
                row[t] = random.nextInt(5);
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void sameInputsGiveBitIdenticalLossAndGradients(CellType cell) {
        Architecture arch = arch(cell, true);
        Model model = Model.initialize(arch, VOCAB, 3);
        int[][] inputs = ids(1, 3, 7);
        int[][] targets = ids(2, 3, 7);
        double[] losses = new double[2];
        float[][] grads = new float[2][];
        for (int run = 0; run < 2; run++) {
            ParameterStore store = new ParameterStore(model);
            CharRnnNetwork net = new CharRnnNetwork(arch, store);
            losses[run] = net.forward(inputs, targets, net.zeroState(3), true);
            net.backward(0.5);
            grads[run] = store.grads().toFloatVector();
        }
        assertEquals(Double.doubleToRawLongBits(losses[0]), Double.doubleToRawLongBits(losses[1]));
        assertArrayEquals(grads[0], grads[1]);
    }

    @Test
    void ignoredTargetsContributeNothing() {
        Architecture arch = arch(CellType.LSTM, false);
        Model model = Model.initialize(arch, VOCAB, 4);
        ParameterStore store = new ParameterStore(model, DataType.DOUBLE);
        CharRnnNetwork net = new CharRnnNetwork(arch, store);
        int[][] inputs = ids(5, 2, 6);
        int[][] targets = ids(6, 2, 6);
        targets[0][2] = -1;
        targets[1][0] = -1;
        targets[1][5] = -1;

        double loss = net.forward(inputs, targets, net.zeroState(2), true);
        assertEquals(9, net.countedTargets());
        float[][][] logits = net.logits();
        double expected = 0;
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 6; t++) {
                if (targets[b][t] >= 0) {
                    double sum = 0;
                    for (float v : logits[b][t]) {
                        sum += Math.exp(v);
                    }
                    expected += Math.log(sum) - logits[b][t][targets[b][t]];
                }
            }
        }
        assertEquals(expected, loss, 1e-5);

        int[][] none = new int[2][6];
        for (int[] row : none) {
            java.util.Arrays.fill(row, -1);
        }
        assertEquals(0.0, net.forward(inputs, none, net.zeroState(2), true));
        assertEquals(0, net.countedTargets());
        net.backward(1.0);
        assertEquals(0.0, store.grads().amaxNumber().doubleValue());
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void carriedStateContinuesTheSequence(CellType cell) {
        Architecture arch = arch(cell, false);
        ParameterStore store = new ParameterStore(Model.initialize(arch, VOCAB, 8), DataType.DOUBLE);
        CharRnnNetwork net = new CharRnnNetwork(arch, store);
        int[][] whole = ids(9, 2, 8);
        int[][] targets = ids(10, 2, 8);
        net.forward(whole, targets, net.zeroState(2), false);
        float[][][] expected = net.logits();

        RnnState state = net.zeroState(2);
        float[][][][] halves = new float[2][][][];
        double total = 0;
        for (int half = 0; half < 2; half++) {
            int[][] in = new int[2][];
            int[][] tg = new int[2][];
            for (int b = 0; b < 2; b++) {
                in[b] = java.util.Arrays.copyOfRange(whole[b], 4 * half, 4 * half + 4);
                tg[b] = java.util.Arrays.copyOfRange(targets[b], 4 * half, 4 * half + 4);
            }
            total += net.forward(in, tg, state, false);
            halves[half] = net.logits();
        }
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 8; t++) {
                assertArrayEquals(expected[b][t], halves[t / 4][b][t % 4], 1e-6f, "b=" + b + " t=" + t);
            }
        }
        assertTrue(total > 0);
    }

    /**
     * Workspaces are reused across calls: what an earlier call left in them (its carried state in the guard block
     * before step 0, its activations, another batch shape's buffers) must not leak into a later call.
     */
    @ParameterizedTest
    @EnumSource(CellType.class)
    void aReusedNetworkGivesBitIdenticalResultsToAFreshOne(CellType cell) {
        for (boolean bidirectional : new boolean[] {false, true}) {
            Architecture arch = arch(cell, bidirectional);
            Model model = Model.initialize(arch, VOCAB, 12);
            ParameterStore usedStore = new ParameterStore(model, DataType.DOUBLE);
            CharRnnNetwork used = new CharRnnNetwork(arch, usedStore);
            RnnState noisy = used.zeroState(3);
            float[][] values = {{1, -2, 3, -4, 5, -6}, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {9, 8, 7, 6, 5, 4}};
            noisy.setHidden(0, 0, values);
            noisy.setHidden(1, 0, values);
            used.forward(ids(20, 3, 5), ids(21, 3, 5), noisy, true);
            used.backward(1.0);
            used.forward(ids(22, 2, 4), ids(23, 2, 4), used.zeroState(2), true);
            used.backward(1.0);

            ParameterStore freshStore = new ParameterStore(model, DataType.DOUBLE);
            CharRnnNetwork fresh = new CharRnnNetwork(arch, freshStore);
            double expected = fresh.forward(ids(1, 3, 5), ids(2, 3, 5), fresh.zeroState(3), true);
            fresh.backward(0.5);
            double actual = used.forward(ids(1, 3, 5), ids(2, 3, 5), used.zeroState(3), true);
            used.backward(0.5);

            assertEquals(expected, actual, arch.toString());
            assertArrayEquals(freshStore.grads().toDoubleVector(), usedStore.grads().toDoubleVector(),
                    arch.toString());
        }
    }

    @Test
    void stateRowsRoundTripAndResetIndividually() {
        Architecture arch = arch(CellType.LSTM, false);
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(Model.initialize(arch, VOCAB, 1)));
        RnnState state = net.zeroState(2);
        float[][] h = {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}};
        state.setHidden(1, 0, h);
        state.setCell(1, 0, h);
        assertArrayEquals(h, state.hidden(1, 0));
        state.resetRow(1);
        assertArrayEquals(h[0], state.hidden(1, 0)[0]);
        assertArrayEquals(new float[6], state.hidden(1, 0)[1]);
        assertArrayEquals(new float[6], state.cell(1, 0)[1]);
        assertArrayEquals(h[0], state.cell(1, 0)[0]);
    }

    @Test
    void backwardWithoutKeptForwardIsRefused() {
        Architecture arch = arch(CellType.GRU, false);
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(Model.initialize(arch, VOCAB, 1)));
        net.forward(ids(1, 1, 3), ids(2, 1, 3), net.zeroState(1), false);
        assertThrows(IllegalStateException.class, () -> net.backward(1.0));
    }

    @Test
    void badIdsAndMismatchedStateAreRejected() {
        Architecture arch = arch(CellType.RNN, false);
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(Model.initialize(arch, VOCAB, 1)));
        assertThrows(IllegalArgumentException.class,
                () -> net.forward(new int[][] {{0, 5}}, new int[][] {{0, 1}}, net.zeroState(1), false));
        assertThrows(IllegalArgumentException.class,
                () -> net.forward(new int[][] {{0, 1}}, new int[][] {{0, 9}}, net.zeroState(1), false));
        assertThrows(IllegalArgumentException.class,
                () -> net.forward(new int[][] {{0, 1}}, new int[][] {{0, 1}}, net.zeroState(2), false));
        assertThrows(IllegalArgumentException.class,
                () -> net.forward(new int[][] {{0, 1}, {2}}, new int[][] {{0, 1}, {2}}, net.zeroState(2), false));
    }
}
