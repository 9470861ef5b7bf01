package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ModelSizesTest {

    @Test
    void csrCountsValuesInt16IndicesAndRowPointers() {
        Tensor t = new Tensor("w", new int[] {3, 4}, new float[] {1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0});
        assertEquals(3 * (4 + 2) + 4 * 4, ModelSizes.csrBytes(t));
    }

    @Test
    void onlyMaskedMatricesAreStoredSparseAndOnlyWhenThatIsSmaller() {
        Model m = Model.initialize(Architecture.of(CellType.RNN, 4, 0, 8, 1), Vocabulary.of("abcd"), 1);
        long fp32 = m.architecture().parameterCount() * 4;
        ModelSizes dense = ModelSizes.of(m, CompressedSizeHook.NOT_AVAILABLE);
        assertEquals(fp32, dense.fp32());
        assertEquals(fp32, dense.sparse(), "no mask: nothing is stored sparse");
        assertNull(dense.quantized());

        boolean[] keep = new boolean[64];
        keep[0] = true;
        m.setMask("rnn.weight_hh_l0", keep);
        m.applyMasks();
        ModelSizes sparse = ModelSizes.of(m, new CompressedSizeHook() {
            @Override
            public OptionalLong quantizedBytes(Model model) {
                return OptionalLong.of(7);
            }

            @Override
            public OptionalLong huffmanBytes(Model model) {
                return OptionalLong.empty();
            }
        });
        assertEquals(fp32 - 64 * 4 + (6 + 9 * 4), sparse.sparse());
        assertEquals(7L, sparse.quantized());
        assertNull(sparse.huffman());

        m.setMask("rnn.weight_ih_l0", new boolean[32]); // all pruned... but fully kept below
        java.util.Arrays.fill(m.mask("rnn.weight_ih_l0"), true);
        assertEquals(sparse.sparse(), ModelSizes.of(m, CompressedSizeHook.NOT_AVAILABLE).sparse(),
                "a dense tensor with a mask stays dense: CSR would be larger");
        assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10}, SvgPlot.ticks(0.3, 9.6), 1e-12);
    }
}
