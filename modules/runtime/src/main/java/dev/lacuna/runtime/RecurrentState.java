package dev.lacuna.runtime;

import dev.lacuna.core.CellType;

/**
 * The recurrent state a {@link CompiledModel} carries from one step to the next: every layer's hidden state
 * {@code h}, and for an LSTM its cell state {@code c}. Only unidirectional models step, so there is one direction.
 *
 * <p>A state also owns the scratch buffers of its model's step, so a step allocates nothing; use one state per
 * thread. Create states with {@link CompiledModel#newState()}.
 */
public final class RecurrentState {
    final float[][] h;
    final float[][] c;
    final CompiledModel owner;
    Workspace stepWorkspace;

    RecurrentState(CompiledModel owner, CellType cell, int layers, int hidden) {
        this.owner = owner;
        this.h = new float[layers][hidden];
        this.c = cell == CellType.LSTM ? new float[layers][hidden] : null;
    }

    /** A copy of layer {@code layer}'s hidden state. */
    public float[] hidden(int layer) {
        return h[layer].clone();
    }

    /** A copy of layer {@code layer}'s LSTM cell state. @throws IllegalStateException for GRU and RNN */
    public float[] cell(int layer) {
        if (c == null) {
            throw new IllegalStateException("only an LSTM has a cell state");
        }
        return c[layer].clone();
    }

    /** Sets layer {@code layer}'s hidden state (e.g. a state saved from another run). */
    public void setHidden(int layer, float[] values) {
        set(h[layer], values, "hidden");
    }

    /** Sets layer {@code layer}'s LSTM cell state. @throws IllegalStateException for GRU and RNN */
    public void setCell(int layer, float[] values) {
        if (c == null) {
            throw new IllegalStateException("only an LSTM has a cell state");
        }
        set(c[layer], values, "cell");
    }

    private static void set(float[] target, float[] values, String what) {
        if (values.length != target.length) {
            throw new IllegalArgumentException(what + " state needs " + target.length + " values, got "
                    + values.length);
        }
        System.arraycopy(values, 0, target, 0, target.length);
    }

    /** Back to the all-zero state a sequence starts from. */
    public void reset() {
        for (float[] row : h) {
            java.util.Arrays.fill(row, 0f);
        }
        if (c != null) {
            for (float[] row : c) {
                java.util.Arrays.fill(row, 0f);
            }
        }
    }

    /** An independent copy (e.g. to branch generation from a shared prefix). */
    public RecurrentState copy() {
        RecurrentState s = owner.newState();
        for (int l = 0; l < h.length; l++) {
            System.arraycopy(h[l], 0, s.h[l], 0, h[l].length);
            if (c != null) {
                System.arraycopy(c[l], 0, s.c[l], 0, c[l].length);
            }
        }
        return s;
    }
}
