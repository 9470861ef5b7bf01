package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EvaluatorTest {
    private static final double[] PROBABILITIES = {0.5, 0.3, 0.15, 0.05};

    /**
     * A model whose recurrent and head weights are zero, so its prediction is softmax(head bias) at every position
     * whatever the context: its bits per character can be computed by hand from the targets alone.
     */
    private static Model unigramModel(CellType cell, boolean bidirectional) {
        Architecture arch = new Architecture(cell, 4, 3, 5, 1, bidirectional, RnnActivation.TANH, true);
        Model model = Model.initialize(arch, Vocabulary.fromString("abcd"), 1);
        for (Tensor t : model.tensors().values()) {
            if (!t.name().equals(Architecture.EMBEDDING)) {
                Arrays.fill(t.data(), 0f);
            }
        }
        float[] bias = model.tensor(Architecture.HEAD_BIAS).data();
        for (int i = 0; i < bias.length; i++) {
            bias[i] = (float) Math.log(PROBABILITIES[i]);
        }
        return model;
    }

    private static int[] ids(int n) {
        int[] ids = new int[n];
        long x = 12345;
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            ids[i] = (int) ((x >>> 33) % 4);
        }
        return ids;
    }

    private static double expectedBits(int[] ids, int first) {
        double bits = 0;
        for (int i = first; i < ids.length; i++) {
            bits -= Math.log(PROBABILITIES[ids[i]]) / Math.log(2);
        }
        return bits / (ids.length - first);
    }

    @ParameterizedTest
    @EnumSource(CellType.class)
    void countsEveryNextCharacterExactlyOnceWhateverTheBatchShape(CellType cell) {
        Model model = unigramModel(cell, false);
        int[] ids = ids(203);
        double expected = expectedBits(ids, 1); // the first character has no prediction
        for (int[] shape : new int[][] {{1, 1000}, {1, 7}, {3, 7}, {32, 100}, {5, 1}, {500, 3}}) {
            assertEquals(expected, Evaluator.bpc(model, ids, shape[0], shape[1]), 1e-5,
                    "batch " + shape[0] + " seq " + shape[1]);
        }
    }

    @Test
    void theClozeObjectivePredictsEveryCharacter() {
        Model model = unigramModel(CellType.GRU, true);
        int[] ids = ids(97);
        double expected = expectedBits(ids, 0);
        assertEquals(expected, Evaluator.bpc(model, ids), 1e-5);
        assertEquals(expected, Evaluator.bpc(model, ids, 4, 9), 1e-5);
    }

    @Test
    void evaluatesTheModelAsItsMasksDefineIt() {
        Model model = unigramModel(CellType.RNN, false);
        Arrays.fill(model.tensor(Architecture.biasIh(0, false)).data(), 1f); // hidden output tanh(1) everywhere
        float[] head = model.tensor(Architecture.HEAD_WEIGHT).data();
        for (int i = 0; i < head.length; i++) {
            head[i] = 0.5f * i; // would shift every prediction, but the mask prunes all of it
        }
        model.setMask(Architecture.HEAD_WEIGHT, new boolean[head.length]);
        int[] ids = ids(50);
        assertEquals(expectedBits(ids, 1), Evaluator.bpc(model, ids, 4, 5), 1e-5);
    }

    @Test
    void rejectsIdsOutsideTheVocabularyAndSequencesWithNothingToPredict() {
        Model model = unigramModel(CellType.RNN, false);
        assertThrows(IllegalArgumentException.class, () -> Evaluator.bpc(model, new int[] {0, 4, 1}));
        assertThrows(IllegalArgumentException.class, () -> Evaluator.bpc(model, new int[] {0, -1, 1}));
        assertThrows(IllegalArgumentException.class, () -> Evaluator.bpc(model, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> Evaluator.bpc(model, ids(10), 0, 5));
    }
}
