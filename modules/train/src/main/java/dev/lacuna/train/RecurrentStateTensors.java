package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import dev.lacuna.train.nn.RnnState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The recurrent state a run carries from one minibatch to the next, as a resume checkpoint stores it: one F32 tensor
 * per layer and direction, {@code state.h.<i>} for the hidden state and, for LSTMs, {@code state.c.<i>} for the
 * cell state, {@code i} counting layers outer and directions inner, each the state's [batch, hidden] rows flattened.
 * Resuming without it would restart the carried state from zeros and end on different weights than the
 * uninterrupted run.
 */
final class RecurrentStateTensors {
    static final String HIDDEN_PREFIX = "state.h.";
    static final String CELL_PREFIX = "state.c.";

    private final List<float[]> hidden;
    private final List<float[]> cells;

    private RecurrentStateTensors(List<float[]> hidden, List<float[]> cells) {
        this.hidden = List.copyOf(hidden);
        this.cells = List.copyOf(cells);
    }

    /** A copy of {@code state}, which holds the state of every layer and direction of {@code arch}. */
    static RecurrentStateTensors capture(RnnState state, Architecture arch) {
        List<float[]> hidden = new ArrayList<>();
        List<float[]> cells = new ArrayList<>();
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++) {
                hidden.add(flatten(state.hidden(l, d)));
                if (state.hasCell()) {
                    cells.add(flatten(state.cell(l, d)));
                }
            }
        }
        return new RecurrentStateTensors(hidden, cells);
    }

    /** Adds the tensors to a checkpoint being written: all hidden states, then all cell states. */
    void addTo(SafetensorsWriter writer) {
        for (int i = 0; i < hidden.size(); i++) {
            writer.addF32(HIDDEN_PREFIX + i, new int[] {hidden.get(i).length}, hidden.get(i));
        }
        for (int i = 0; i < cells.size(); i++) {
            writer.addF32(CELL_PREFIX + i, new int[] {cells.get(i).length}, cells.get(i));
        }
    }

    /**
     * Checks that the saved state has the run's layers, directions, batch size and hidden size; call it before
     * changing anything, so that a checkpoint that does not fit leaves the run untouched.
     *
     * @throws BadFileException naming {@code file} when a tensor is missing, extra or of another length
     */
    void checkFits(Path file, Architecture arch, RnnState state) {
        int layerDirections = arch.layers() * arch.directions();
        int stateLength = state.batch() * arch.hiddenSize();
        expectStates(file, HIDDEN_PREFIX, hidden, layerDirections, stateLength);
        expectStates(file, CELL_PREFIX, cells, state.hasCell() ? layerDirections : 0, stateLength);
    }

    /** Puts the saved state into {@code state}; {@link #checkFits} must have accepted it. */
    void restoreInto(Architecture arch, RnnState state) {
        int i = 0;
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++, i++) {
                state.setHidden(l, d, unflatten(hidden.get(i), state.batch()));
                if (state.hasCell()) {
                    state.setCell(l, d, unflatten(cells.get(i), state.batch()));
                }
            }
        }
    }

    private static void expectStates(Path file, String prefix, List<float[]> states, int count, int length) {
        if (states.size() != count) {
            throw new BadFileException(file, "has " + states.size() + " '" + prefix + "' tensors, the model needs "
                    + count);
        }
        for (int i = 0; i < count; i++) {
            CheckpointFields.expectLength(file, prefix + i, states.get(i).length, length);
        }
    }

    private static float[] flatten(float[][] rows) {
        int width = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b], 0, flat, b * width, width);
        }
        return flat;
    }

    private static float[][] unflatten(float[] flat, int rows) {
        int width = flat.length / rows;
        float[][] out = new float[rows][width];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(flat, b * width, out[b], 0, width);
        }
        return out;
    }

    /**
     * Collects the state tensors while a checkpoint's tensors are read in file order, which need not be index
     * order.
     */
    static final class Reader {
        private final Path file;
        private final Map<Integer, float[]> hidden = new TreeMap<>();
        private final Map<Integer, float[]> cells = new TreeMap<>();

        Reader(Path file) {
            this.file = file;
        }

        /**
         * Takes {@code t} when it is a state tensor.
         *
         * @return whether it was one
         * @throws BadFileException when it is one but not F32 or its name has no valid index
         */
        boolean accept(SafetensorsTensor t) {
            String name = t.name();
            if (name.startsWith(HIDDEN_PREFIX)) {
                hidden.put(index(name, HIDDEN_PREFIX), CheckpointFields.floats(file, t));
            } else if (name.startsWith(CELL_PREFIX)) {
                cells.put(index(name, CELL_PREFIX), CheckpointFields.floats(file, t));
            } else {
                return false;
            }
            return true;
        }

        /** @throws BadFileException when the indices of one kind do not run 0, 1, 2, ... without a gap */
        RecurrentStateTensors finish() {
            return new RecurrentStateTensors(ordered(hidden, HIDDEN_PREFIX), ordered(cells, CELL_PREFIX));
        }

        private int index(String name, String prefix) {
            try {
                int i = Integer.parseInt(name.substring(prefix.length()));
                if (i >= 0) {
                    return i;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new BadFileException(file, "tensor '" + name + "' must end in a layer-direction index");
        }

        private List<float[]> ordered(Map<Integer, float[]> byIndex, String prefix) {
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < byIndex.size(); i++) {
                float[] values = byIndex.get(i);
                if (values == null) {
                    throw new BadFileException(file, "tensor '" + prefix + i + "' is missing");
                }
                out.add(values);
            }
            return out;
        }
    }
}
