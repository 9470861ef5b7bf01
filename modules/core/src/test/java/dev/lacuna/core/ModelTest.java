package dev.lacuna.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelTest {
    private final Vocabulary vocab = Vocabulary.of("abcde");

    @Test
    void tensorShapesFollowPyTorchLayout() {
        Architecture arch = new Architecture(CellType.LSTM, 5, 3, 4, 2, true, RnnActivation.TANH, true);
        Model m = Model.initialize(arch, vocab, 1);
        assertArrayEquals(new int[] {5, 3}, m.tensor("embedding.weight").shape());
        assertArrayEquals(new int[] {16, 3}, m.tensor("rnn.weight_ih_l0").shape());
        assertArrayEquals(new int[] {16, 4}, m.tensor("rnn.weight_hh_l0_reverse").shape());
        assertArrayEquals(new int[] {16, 8}, m.tensor("rnn.weight_ih_l1").shape());
        assertArrayEquals(new int[] {5, 8}, m.tensor("head.weight").shape());
        // 2 layers x 2 directions x (ih, hh) + head; biases and the embedding excluded by default
        assertEquals(9, m.prunable(false).size());
        assertEquals(10, m.prunable(true).size());
    }

    @Test
    void oneHotInputHasNoEmbedding() {
        Model m = Model.initialize(Architecture.of(CellType.GRU, 5, 0, 4, 1), vocab, 1);
        assertFalse(m.tensors().containsKey(Architecture.EMBEDDING));
        assertArrayEquals(new int[] {12, 5}, m.tensor("rnn.weight_ih_l0").shape());
    }

    @Test
    void sameSeedSameWeights() {
        Architecture arch = Architecture.of(CellType.RNN, 5, 2, 3, 1);
        Model a = Model.initialize(arch, vocab, 7);
        Model b = Model.initialize(arch, vocab, 7);
        Model c = Model.initialize(arch, vocab, 8);
        assertArrayEquals(a.tensor("rnn.weight_hh_l0").data(), b.tensor("rnn.weight_hh_l0").data());
        assertFalse(java.util.Arrays.equals(a.tensor("rnn.weight_hh_l0").data(), c.tensor("rnn.weight_hh_l0").data()));
    }

    @Test
    void masksZeroWeightsAndCountAsSparsity() {
        Model m = Model.initialize(Architecture.of(CellType.RNN, 5, 0, 2, 1), vocab, 3);
        Tensor hh = m.tensor("rnn.weight_hh_l0");
        m.setMask(hh.name(), new boolean[] {true, false, false, true});
        m.applyMasks();
        assertEquals(0f, hh.data()[1]);
        SparsityReport r = m.sparsity(false);
        long prunable = m.prunable(false).stream().mapToLong(TensorSpec::elementCount).sum();
        assertEquals(prunable, r.prunableTotal());
        assertEquals(prunable - 2, r.prunableNonzero());
        assertTrue(r.sparsity() > 0);
    }

    @Test
    void rejectsTensorsThatDoNotMatchTheArchitecture() {
        Architecture arch = Architecture.of(CellType.RNN, 5, 0, 2, 1);
        Map<String, Tensor> tensors = new LinkedHashMap<>(Model.initialize(arch, vocab, 1).tensors());
        tensors.put("rnn.weight_hh_l0", Tensor.zeros("rnn.weight_hh_l0", new int[] {2, 3}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Model(arch, vocab, tensors));
        assertTrue(e.getMessage().contains("rnn.weight_hh_l0"));
    }

    @Test
    void unknownCellNamesTheOption() {
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> CellType.parse("--cell", "tcn"));
        assertTrue(e.getMessage().startsWith("--cell"));
    }
}
