package dev.lacuna.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class ParameterStoreTest {
    private final Architecture arch = new Architecture(CellType.GRU, 5, 3, 4, 2, true, RnnActivation.TANH, true);
    private final Vocabulary vocab = Vocabulary.of("abcde");

    @Test
    void flatVectorsFollowArchitectureOrderAndCopyBackExactly() {
        Model model = Model.initialize(arch, vocab, 2);
        ParameterStore store = new ParameterStore(model);
        assertEquals(arch.parameterCount(), store.size());
        assertEquals(arch.tensors().stream().map(TensorSpec::name).toList(), store.names());
        // the first element of each tensor sits at the running offset
        long offset = 0;
        for (TensorSpec spec : arch.tensors()) {
            assertEquals(model.tensor(spec.name()).data()[0], store.params().getFloat(offset));
            offset += spec.elementCount();
        }
        assertEquals(1.0, store.mask().minNumber().doubleValue());

        Model target = Model.initialize(arch, vocab, 99);
        store.copyTo(target);
        for (String name : store.names()) {
            assertArrayEquals(model.tensor(name).data(), target.tensor(name).data(), name);
        }
    }

    @Test
    void masksLoadAndApply() {
        Model model = Model.initialize(arch, vocab, 2);
        String name = Architecture.weightHh(1, true);
        boolean[] keep = new boolean[model.tensor(name).size()];
        keep[3] = true;
        keep[7] = true;
        model.setMask(name, keep);
        ParameterStore store = new ParameterStore(model, DataType.DOUBLE);
        long masked = keep.length - 2;
        assertEquals(store.size() - masked, store.mask().sumNumber().longValue());

        store.applyMask();
        Model out = model.copy();
        store.copyTo(out);
        float[] data = out.tensor(name).data();
        for (int i = 0; i < data.length; i++) {
            assertEquals(keep[i] ? model.tensor(name).data()[i] : 0f, data[i], name + "[" + i + "]");
        }
        assertArrayEquals(model.tensor(Architecture.HEAD_WEIGHT).data(), out.tensor(Architecture.HEAD_WEIGHT).data());

        model.removeMasks();
        store.loadMasks(model);
        assertEquals(store.size(), store.mask().sumNumber().longValue());
        store.loadWeights(model);
        store.copyTo(out);
        assertArrayEquals(model.tensor(name).data(), out.tensor(name).data());
    }

    @Test
    void otherArchitectureIsRejected() {
        ParameterStore store = new ParameterStore(Model.initialize(arch, vocab, 2));
        Model other = Model.initialize(Architecture.of(CellType.GRU, 5, 3, 4, 2), vocab, 2);
        assertThrows(IllegalArgumentException.class, () -> store.copyTo(other));
        assertThrows(IllegalArgumentException.class, () -> store.loadWeights(other));
    }
}
