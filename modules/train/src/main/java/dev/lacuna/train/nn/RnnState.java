package dev.lacuna.train.nn;

import dev.lacuna.core.CellType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Recurrent state carried between calls of {@link CharRnnNetwork#forward}: the hidden state {@code h}, and for an
 * LSTM the cell state {@code c}, of every layer and direction for each batch row.
 *
 * <p>Only left-to-right directions carry state across calls (truncated back-propagation through time); the
 * right-to-left directions start from zero on every call, so their entries stay zero. Internally each state is
 * held transposed, {@code [hidden, batch]}, the layout the network computes in.
 */
public final class RnnState {
    private final int layers;
    private final int directions;
    private final int hidden;
    private final int batch;
    private final INDArray[] h;
    private final INDArray[] c;

    RnnState(CellType cell, int layers, int directions, int hidden, int batch, DataType dtype) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be positive, found " + batch);
        }
        this.layers = layers;
        this.directions = directions;
        this.hidden = hidden;
        this.batch = batch;
        this.h = new INDArray[layers * directions];
        this.c = cell == CellType.LSTM ? new INDArray[layers * directions] : null;
        for (int i = 0; i < h.length; i++) {
            h[i] = Nd4j.create(dtype, hidden, batch);
            if (c != null) {
                c[i] = Nd4j.create(dtype, hidden, batch);
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
            h[i].assign(0);
            if (c != null) {
                c[i].assign(0);
            }
        }
    }

    /** Zeroes the state of one batch row in every layer and direction (a new sequence starts in that row). */
    public void resetRow(int row) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("row " + row + " outside batch of " + batch);
        }
        for (int i = 0; i < h.length; i++) {
            h[i].getColumn(row).assign(0);
            if (c != null) {
                c[i].getColumn(row).assign(0);
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

    INDArray h(int layerDirection) {
        return h[layerDirection];
    }

    INDArray c(int layerDirection) {
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

    private float[][] read(INDArray transposed) {
        float[][] out = new float[batch][];
        INDArray rows = transposed.transpose().dup('c');
        for (int b = 0; b < batch; b++) {
            out[b] = rows.getRow(b).toFloatVector();
        }
        return out;
    }

    private void write(INDArray transposed, float[][] values) {
        if (values.length != batch) {
            throw new IllegalArgumentException("state has " + batch + " rows, " + values.length + " given");
        }
        float[] flat = new float[batch * hidden];
        for (int b = 0; b < batch; b++) {
            if (values[b].length != hidden) {
                throw new IllegalArgumentException("state rows have " + hidden + " values, row " + b + " has "
                        + values[b].length);
            }
            System.arraycopy(values[b], 0, flat, b * hidden, hidden);
        }
        transposed.assign(Nd4j.createFromArray(flat).reshape(batch, hidden).transpose().castTo(transposed.dataType()));
    }
}
