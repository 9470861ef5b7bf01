package dev.lacuna.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The float32 network (LSTM and GRU run their own float-row step functions) against the float64 one, which the
 * gradient checks validate: same weights, inputs and carried state must give the same loss, logits and gradients
 * within float32 roundoff. A slip in either variant of a step's equations shows up as a difference far above it.
 */
class FloatPathTest {
    private static final int BATCH = 3;
    private static final int TIME = 7;

    static Stream<Arguments> configurations() {
        List<Arguments> out = new ArrayList<>();
        for (boolean bidirectional : new boolean[] {false, true}) {
            out.add(Arguments.of(arch(CellType.LSTM, 6, bidirectional, true)));
            out.add(Arguments.of(arch(CellType.GRU, 6, bidirectional, true)));
            out.add(Arguments.of(arch(CellType.GRU, 6, bidirectional, false)));
            out.add(Arguments.of(arch(CellType.RNN, 6, bidirectional, true)));
        }
        out.add(Arguments.of(arch(CellType.LSTM, 0, false, true)));
        out.add(Arguments.of(arch(CellType.GRU, 0, false, false)));
        return out.stream();
    }

    private static Architecture arch(CellType cell, int embed, boolean bidirectional, boolean linearBeforeReset) {
        return new Architecture(cell, 5, embed, 16, 2, bidirectional, RnnActivation.TANH, linearBeforeReset);
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void float32MatchesFloat64(Architecture arch) {
        Model model = Model.initialize(arch, Vocabulary.of("abcde"), 3);
        SplittableRandom random = new SplittableRandom(9);
        int[][] inputs = ids(random, arch.vocabSize());
        int[][] targets = ids(random, arch.vocabSize());
        targets[1][2] = -1;
        float[][][] initial = new float[2 * arch.layers()][BATCH][arch.hiddenSize()];
        for (float[][] rows : initial) {
            for (float[] row : rows) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = (float) (random.nextDouble() - 0.5);
                }
            }
        }
        Run single = run(model, DataType.FLOAT, inputs, targets, initial);
        Run reference = run(model, DataType.DOUBLE, inputs, targets, initial);

        assertEquals(reference.loss, single.loss, 1e-5 * Math.abs(reference.loss), "loss");
        double logitScale = maxAbs(reference.logits);
        for (int i = 0; i < reference.logits.length; i++) {
            assertEquals(reference.logits[i], single.logits[i], 2e-6 * logitScale, "logit " + i);
        }
        double gradientScale = maxAbs(reference.gradients);
        assertTrue(gradientScale > 0);
        for (int i = 0; i < reference.gradients.length; i++) {
            assertEquals(reference.gradients[i], single.gradients[i], 1e-5 * gradientScale, "gradient " + i);
        }
    }

    private record Run(double loss, double[] logits, double[] gradients) {
    }

    private static Run run(Model model, DataType dtype, int[][] inputs, int[][] targets, float[][][] initial) {
        Architecture arch = model.architecture();
        ParameterStore store = new ParameterStore(model, dtype);
        CharRnnNetwork net = new CharRnnNetwork(arch, store);
        RnnState state = net.zeroState(BATCH);
        for (int l = 0; l < arch.layers(); l++) {
            state.setHidden(l, 0, initial[2 * l]);
            if (state.hasCell()) {
                state.setCell(l, 0, initial[2 * l + 1]);
            }
        }
        double loss = net.forward(inputs, targets, state, true);
        double[] logits = flatten(net.logits());
        net.backward(1.0);
        return new Run(loss, logits, store.grads().toDoubleVector());
    }

    private static int[][] ids(SplittableRandom random, int vocab) {
        int[][] ids = new int[BATCH][TIME];
        for (int[] row : ids) {
            for (int t = 0; t < TIME; t++) {
                row[t] = random.nextInt(vocab);
            }
        }
        return ids;
    }

    private static double[] flatten(float[][][] values) {
        List<Float> out = new ArrayList<>();
        for (float[][] plane : values) {
            for (float[] row : plane) {
                for (float v : row) {
                    out.add(v);
                }
            }
        }
        return out.stream().mapToDouble(Float::doubleValue).toArray();
    }

    private static double maxAbs(double[] values) {
        double max = 0;
        for (double v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
