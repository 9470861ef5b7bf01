package dev.lacuna.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Analytic gradients against central finite differences in double precision, for every cell, direction and input
 * kind, with a non-zero carried initial state and some ignored targets.
 */
class GradientCheckTest {
    private static final int VOCAB = 5;
    private static final int BATCH = 2;
    private static final int TIME = 4;
    /** Loss roundoff in double precision, with margin; divided by the step it bounds the finite-difference noise. */
    private static final double LOSS_ROUNDOFF = 1e-14;
    private static final double TOLERANCE = 1e-6;

    static Stream<Arguments> configurations() {
        List<Arguments> out = new ArrayList<>();
        for (boolean bidirectional : new boolean[] {false, true}) {
            out.add(Arguments.of(arch(CellType.RNN, 3, bidirectional, RnnActivation.TANH, true)));
            out.add(Arguments.of(arch(CellType.RNN, 3, bidirectional, RnnActivation.RELU, true)));
            out.add(Arguments.of(arch(CellType.GRU, 3, bidirectional, RnnActivation.TANH, true)));
            out.add(Arguments.of(arch(CellType.GRU, 3, bidirectional, RnnActivation.TANH, false)));
            out.add(Arguments.of(arch(CellType.LSTM, 3, bidirectional, RnnActivation.TANH, true)));
        }
        // one-hot input (no embedding): W_ih is gathered by column rather than multiplied
        out.add(Arguments.of(arch(CellType.LSTM, 0, false, RnnActivation.TANH, true)));
        out.add(Arguments.of(arch(CellType.GRU, 0, true, RnnActivation.TANH, false)));
        return out.stream();
    }

    static Architecture arch(CellType cell, int embed, boolean bidirectional, RnnActivation activation,
                             boolean linearBeforeReset) {
        return new Architecture(cell, VOCAB, embed, 4, 2, bidirectional, activation, linearBeforeReset);
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void analyticGradientsMatchFiniteDifferences(Architecture arch) {
        Model model = Model.initialize(arch, Vocabulary.of("abcde"), 11);
        ParameterStore store = new ParameterStore(model, DataType.DOUBLE);
        CharRnnNetwork net = new CharRnnNetwork(arch, store);
        SplittableRandom random = new SplittableRandom(5);
        int[][] inputs = randomIds(random);
        int[][] targets = randomIds(random);
        targets[0][1] = -1;
        targets[1][3] = -1;
        float[][][] initial = randomState(random, arch);

        double loss = net.forward(inputs, targets, state(net, arch, initial), true);
        assertEquals(BATCH * TIME - 2, net.countedTargets());
        assertTrue(loss > 0);
        double scale = 0.7;
        net.backward(scale);
        double[] analytic = store.grads().toDoubleVector();

        // ReLU has kinks: a small step keeps the stencil from straddling one.
        double step = arch.activation() == RnnActivation.RELU && arch.cell() == CellType.RNN ? 1e-5 : 1e-3;
        long offset = 0;
        for (TensorSpec spec : arch.tensors()) {
            long size = spec.elementCount();
            for (long index : sample(spec, random)) {
                long i = offset + index;
                double numeric = scale * derivative(net, store, i, step, inputs, targets, arch, initial);
                double a = analytic[(int) i];
                double difference = Math.abs(a - numeric);
                double relative = difference / Math.max(Math.abs(a) + Math.abs(numeric), Double.MIN_NORMAL);
                assertTrue(relative < TOLERANCE || difference < LOSS_ROUNDOFF / step, () -> spec.name() + "[" + index
                        + "] of " + arch + ": analytic " + a + " numeric " + numeric + " relative error " + relative);
            }
            offset += size;
        }
    }

    /**
     * Fourth-order central difference: its truncation error is O(h⁴), so h can be large enough that the loss's
     * roundoff (about 1e-15) divided by h stays far below the gradients being checked.
     */
    private static double derivative(CharRnnNetwork net, ParameterStore store, long i, double h, int[][] inputs,
                                     int[][] targets, Architecture arch, float[][][] initial) {
        double original = store.params().getDouble(i);
        double[] loss = new double[4];
        double[] steps = {2 * h, h, -h, -2 * h};
        for (int k = 0; k < 4; k++) {
            store.params().putScalar(i, original + steps[k]);
            loss[k] = net.forward(inputs, targets, state(net, arch, initial), false);
        }
        store.params().putScalar(i, original);
        return (-loss[0] + 8 * loss[1] - 8 * loss[2] + loss[3]) / (12 * h);
    }

    /** Every element of a small tensor, a seeded sample of a bigger one. */
    private static long[] sample(TensorSpec spec, SplittableRandom random) {
        long size = spec.elementCount();
        if (size <= 16) {
            return LongStream.range(0, size).toArray();
        }
        return random.longs(10, 0, size).toArray();
    }

    static int[][] randomIds(SplittableRandom random) {
        int[][] ids = new int[BATCH][TIME];
        for (int[] row : ids) {
            for (int t = 0; t < TIME; t++) {
                row[t] = random.nextInt(VOCAB);
            }
        }
        return ids;
    }

    /** Random initial states: entry 2l is layer l's left-to-right h, entry 2l+1 its c (LSTM only). */
    static float[][][] randomState(SplittableRandom random, Architecture arch) {
        float[][][] values = new float[2 * arch.layers()][BATCH][arch.hiddenSize()];
        for (float[][] rows : values) {
            for (float[] row : rows) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = (float) (random.nextDouble() - 0.5);
                }
            }
        }
        return values;
    }

    static RnnState state(CharRnnNetwork net, Architecture arch, float[][][] initial) {
        RnnState s = net.zeroState(BATCH);
        for (int l = 0; l < arch.layers(); l++) {
            s.setHidden(l, 0, initial[2 * l]);
            if (s.hasCell()) {
                s.setCell(l, 0, initial[2 * l + 1]);
            }
        }
        return s;
    }
}
