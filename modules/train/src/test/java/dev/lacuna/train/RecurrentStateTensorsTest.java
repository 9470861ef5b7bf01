package dev.lacuna.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The carried recurrent state as both resume checkpoints store it: names, order, and the checks on reading. */
class RecurrentStateTensorsTest {
    private static final Vocabulary VOCAB = Vocabulary.of("abcde");
    private static final int HIDDEN = 4;

    @TempDir
    Path dir;

    private static Architecture arch(CellType cell, int layers, boolean bidirectional) {
        return new Architecture(cell, VOCAB.size(), 3, HIDDEN, layers, bidirectional, RnnActivation.TANH, true);
    }

    private static RnnState state(Architecture arch, int batch) {
        return new CharRnnNetwork(arch, new ParameterStore(Model.initialize(arch, VOCAB, 1))).zeroState(batch);
    }

    /** Every layer, direction, row and kind of state gets values of its own, so a mix-up shows. */
    private static RnnState filled(Architecture arch, int batch) {
        RnnState state = state(arch, batch);
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++) {
                state.setHidden(l, d, rows(batch, 100 * l + 10 * d));
                if (state.hasCell()) {
                    state.setCell(l, d, rows(batch, -(100 * l + 10 * d) - 1));
                }
            }
        }
        return state;
    }

    private static float[][] rows(int batch, int base) {
        float[][] rows = new float[batch][HIDDEN];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < HIDDEN; j++) {
                rows[b][j] = base + b + j / 8f;
            }
        }
        return rows;
    }

    private Path write(RecurrentStateTensors tensors) {
        SafetensorsWriter writer = new SafetensorsWriter();
        tensors.addTo(writer);
        Path file = dir.resolve("state.safetensors");
        writer.write(file);
        return file;
    }

    private static RecurrentStateTensors read(Path file) {
        RecurrentStateTensors.Reader reader = new RecurrentStateTensors.Reader(file);
        for (SafetensorsTensor t : SafetensorsFile.read(file).tensors().values()) {
            assertTrue(reader.accept(t), t.name());
        }
        return reader.finish();
    }

    @Test
    void anLstmStateRoundTripsThroughAFileUnderFixedNames() {
        Architecture arch = arch(CellType.LSTM, 2, false);
        RnnState saved = filled(arch, 3);
        Path file = write(RecurrentStateTensors.capture(saved, arch));

        // The names and their order are part of both checkpoint formats.
        assertEquals(List.of("state.h.0", "state.h.1", "state.c.0", "state.c.1"),
                List.copyOf(SafetensorsFile.read(file).tensors().keySet()));
        RnnState restored = state(arch, 3);
        RecurrentStateTensors tensors = read(file);
        tensors.checkFits(file, arch, restored);
        tensors.restoreInto(arch, restored);
        for (int l = 0; l < arch.layers(); l++) {
            assertArrayEquals(saved.hidden(l, 0), restored.hidden(l, 0), "hidden of layer " + l);
            assertArrayEquals(saved.cell(l, 0), restored.cell(l, 0), "cell of layer " + l);
        }
    }

    @Test
    void directionsCountInsideLayers() {
        Architecture arch = arch(CellType.GRU, 1, true);
        RnnState saved = filled(arch, 2);
        Path file = write(RecurrentStateTensors.capture(saved, arch));

        assertEquals(List.of("state.h.0", "state.h.1"), List.copyOf(SafetensorsFile.read(file).tensors().keySet()));
        float[] backward = SafetensorsFile.read(file).tensors().get("state.h.1").toFloats();
        assertEquals(saved.hidden(0, 1)[1][0], backward[HIDDEN]);
        RnnState restored = state(arch, 2);
        read(file).restoreInto(arch, restored);
        assertArrayEquals(saved.hidden(0, 1), restored.hidden(0, 1));
    }

    @Test
    void theReaderLeavesOtherTensorsToItsCaller() {
        Path file = dir.resolve("other.safetensors");
        new SafetensorsWriter().addF32("params", new int[] {1}, new float[] {1}).write(file);
        RecurrentStateTensors.Reader reader = new RecurrentStateTensors.Reader(file);
        assertFalse(reader.accept(SafetensorsFile.read(file).tensors().get("params")));
    }

    @Test
    void aMissingIndexIsABadFileNamingTheTensor() {
        Path file = dir.resolve("gap.safetensors");
        new SafetensorsWriter().addF32("state.h.0", new int[] {1}, new float[] {1})
                .addF32("state.h.2", new int[] {1}, new float[] {2}).write(file);
        RecurrentStateTensors.Reader reader = new RecurrentStateTensors.Reader(file);
        SafetensorsFile.read(file).tensors().values().forEach(reader::accept);
        BadFileException e = assertThrows(BadFileException.class, reader::finish);
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("'state.h.1' is missing"), e.getMessage());
    }

    @Test
    void aNameWithoutAnIndexOrAStateThatIsNotF32IsABadFile() {
        Path file = dir.resolve("bad.safetensors");
        new SafetensorsWriter().addF32("state.c.one", new int[] {1}, new float[] {1})
                .addU8("state.h.0", new int[] {1}, new byte[] {1}).write(file);
        SafetensorsFile content = SafetensorsFile.read(file);
        RecurrentStateTensors.Reader reader = new RecurrentStateTensors.Reader(file);
        BadFileException name = assertThrows(BadFileException.class,
                () -> reader.accept(content.tensors().get("state.c.one")));
        assertTrue(name.getMessage().contains("layer-direction index"), name.getMessage());
        BadFileException dtype = assertThrows(BadFileException.class,
                () -> reader.accept(content.tensors().get("state.h.0")));
        assertTrue(dtype.getMessage().contains("must be F32"), dtype.getMessage());
    }

    @Test
    void aStateOfAnotherShapeDoesNotFitAndChangesNothing() {
        Architecture lstm = arch(CellType.LSTM, 2, false);
        Path file = write(RecurrentStateTensors.capture(filled(lstm, 3), lstm));
        RecurrentStateTensors tensors = read(file);

        RnnState otherBatch = state(lstm, 2);
        BadFileException batch = assertThrows(BadFileException.class, () -> tensors.checkFits(file, lstm, otherBatch));
        assertEquals(file, batch.file());
        assertTrue(batch.getMessage().contains("'state.h.0' has " + 3 * HIDDEN + " values, the run needs "
                + 2 * HIDDEN), batch.getMessage());
        assertArrayEquals(new float[2][HIDDEN], otherBatch.hidden(0, 0));

        Architecture gru = arch(CellType.GRU, 2, false);
        BadFileException cells = assertThrows(BadFileException.class,
                () -> tensors.checkFits(file, gru, state(gru, 3)));
        assertTrue(cells.getMessage().contains("has 2 'state.c.' tensors, the model needs 0"), cells.getMessage());

        Architecture deeper = arch(CellType.LSTM, 3, false);
        assertThrows(BadFileException.class, () -> tensors.checkFits(file, deeper, state(deeper, 3)));
    }
}
