package dev.lacuna.train.nn;

import dev.lacuna.core.CellType;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Recurrent state carried between calls of {@link CharRnnNetwork#forward}: the hidden state {@code h}, and for an
 * LSTM the cell state {@code c}, of every layer and direction for each batch row.
 *
 * <p>Only left-to-right directions carry state across calls (truncated back-propagation through time); the
 * right-to-left directions start from zero on every call, so their entries stay zero. Internally each state is
 * a row-major {@code [batch, hidden]} block, the layout the network computes in.
 */
public final class RnnState {
    private final int layers;
    private final int directions;
    private final int hidden;
    private final int batch;
    private final Block[] h;
    private final Block[] c;

    RnnState(CellType cell, int layers, int directions, int hidden, int batch, DataType dtype) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be positive, found " + batch);
        }
        this.layers = layers;
        this.directions = directions;
        this.hidden = hidden;
        this.batch = batch;
        this.h = new Block[layers * directions];
        this.c = cell == CellType.LSTM ? new Block[layers * directions] : null;
        for (int i = 0; i < h.length; i++) {
            h[i] = Block.allocate(dtype, batch * hidden);
            if (c != null) {
                c[i] = Block.allocate(dtype, batch * hidden);
            }
        }
    }

    /** Number of batch rows. */
    public int batch() {
        return batch;
    }

    /** Whether this state has a cell state (LSTM). */
    public boolean hasCell() {
        return c != null;
    }

    /** Zeroes every state, as at the start of a sequence. */
    public void reset() {
        for (int i = 0; i < h.length; i++) {
            h[i].zero(0, h[i].length);
            if (c != null) {
                c[i].zero(0, c[i].length);
            }
        }
    }

    /** Zeroes the state of one batch row in every layer and direction (a new sequence starts in that row). */
    public void resetRow(int row) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("row " + row + " outside batch of " + batch);
        }
        for (int i = 0; i < h.length; i++) {
            h[i].zero(row * hidden, hidden);
            if (c != null) {
                c[i].zero(row * hidden, hidden);
            }
        }
    }

    /** The hidden state of a layer and direction (0 = left-to-right) as {@code [batch][hidden]}. */
    public float[][] hidden(int layer, int direction) {
        return read(h[index(layer, direction)]);
    }

    /** The LSTM cell state of a layer and direction as {@code [batch][hidden]}. */
    public float[][] cell(int layer, int direction) {
        requireCell();
        return read(c[index(layer, direction)]);
    }

    /** Sets the hidden state of a layer and direction from {@code [batch][hidden]} values. */
    public void setHidden(int layer, int direction, float[][] values) {
        write(h[index(layer, direction)], values);
    }

    /** Sets the LSTM cell state of a layer and direction from {@code [batch][hidden]} values. */
    public void setCell(int layer, int direction, float[][] values) {
        requireCell();
        write(c[index(layer, direction)], values);
    }

    Block h(int layerDirection) {
        return h[layerDirection];
    }

    Block c(int layerDirection) {
        return c[layerDirection];
    }

    int hiddenSize() {
        return hidden;
    }

    int layerDirections() {
        return h.length;
    }

    private void requireCell() {
        if (c == null) {
            throw new IllegalStateException("only an LSTM state has a cell state");
        }
    }

    private int index(int layer, int direction) {
        if (layer < 0 || layer >= layers || direction < 0 || direction >= directions) {
            throw new IllegalArgumentException("no state for layer " + layer + " direction " + direction
                    + " (" + layers + " layers, " + directions + " directions)");
        }
        return layer * directions + direction;
    }

    private float[][] read(Block state) {
        float[][] out = new float[batch][hidden];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                out[b][j] = (float) state.get(b * hidden + j);
            }
        }
        return out;
    }

    private void write(Block state, float[][] values) {
        if (values.length != batch) {
            throw new IllegalArgumentException("state has " + batch + " rows, " + values.length + " given");
        }
        for (int b = 0; b < batch; b++) {
            if (values[b].length != hidden) {
                throw new IllegalArgumentException("state rows have " + hidden + " values, row " + b + " has "
                        + values[b].length);
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                state.set(b * hidden + j, values[b][j]);
            }
        }
    }

    /** Whether the state holds float64 values. */
    boolean isDouble() {
        return h[0].isDouble();
    }
}
