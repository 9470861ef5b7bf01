package dev.lacuna.train.nn;

import dev.lacuna.core.Activations;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.train.nn.Blas.Mat;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Hand-written forward and backward passes of a character-level RNN, GRU or LSTM stack with an embedding (or
 * one-hot input) and a linear softmax head, on the parameters of a {@link ParameterStore}.
 *
 * <p>Layout: PyTorch's, one row per (time, batch) position, time-major: a step's activations are the contiguous row
 * block {@code [batch, features]} of a {@code [time·batch, features]} matrix, with the gates of a packed weight
 * side by side (LSTM i,f,g,o; GRU r,z,n). So the time-independent products (input projections, every weight
 * gradient, the head) are each one large GEMM over all positions, with no transposes, and the recurrence costs one
 * GEMM per step (two for a GRU without {@code linear_before_reset}) plus one Java loop that does all of the step's
 * element-wise work, instead of the twenty-odd ND4J calls it took before (platform-notes.md: 5-14 µs per call).
 *
 * <p>Each layer's output buffer has a guard block of {@code batch} rows before step 0 and after step T−1: the first
 * holds the left-to-right initial state, the last the right-to-left one (zero). The previous hidden state of every
 * step is then a row block of the same buffer, and the recurrent weight gradient is one GEMM over all steps.
 *
 * <p>Objective (see {@link Architecture}): a unidirectional model reads the top layer's output at t; a bidirectional
 * model is a cloze model reading the top left-to-right output at t−1 and right-to-left output at t+1.
 *
 * <p>Not thread-safe: one network holds the workspace of its last forward pass.
 */
public final class CharRnnNetwork {
    private final Architecture arch;
    private final ParameterStore store;
    private final DataType dtype;
    private final CellType cell;
    private final int hidden;
    private final int gateRows;
    private final int directions;
    private final int vocab;
    private final int embed;
    private final int layers;
    /** Parameters and gradients, live over the store's flat vectors. */
    private final Block params;
    private final Block grads;

    private Workspace ws;
    private Workspace spareWs;
    /** Input ids of the last forward pass, time-major: {@code ids[t * batch + b]}. */
    private int[] ids;
    private long counted;
    private boolean backwardReady;

    /** A network computing on the store's parameters (live: optimizer updates are seen by the next forward). */
    public CharRnnNetwork(Architecture arch, ParameterStore store) {
        if (!arch.equals(store.architecture())) {
            throw new IllegalArgumentException("architecture " + arch + " does not match the store's "
                    + store.architecture());
        }
        this.arch = arch;
        this.store = store;
        this.dtype = store.dataType();
        this.cell = arch.cell();
        this.hidden = arch.hiddenSize();
        this.gateRows = cell.gates() * hidden;
        this.directions = arch.directions();
        this.vocab = arch.vocabSize();
        this.embed = arch.embedDim();
        this.layers = arch.layers();
        this.params = Block.over(store.params());
        this.grads = Block.over(store.grads());
    }

    /** An all-zero state for {@code batch} rows, in the store's precision. */
    public RnnState zeroState(int batch) {
        return new RnnState(cell, layers, directions, hidden, batch, dtype);
    }

    /**
     * Runs the network over a batch of sequences.
     *
     * @param inputs          {@code inputs[b][t]} class ids; every row the same length
     * @param targets         {@code targets[b][t]} class ids, negative to ignore a position
     * @param state           initial left-to-right states; replaced by the final ones (truncated BPTT carry, no
     *                        gradient flows into it). Right-to-left directions start from zero on every call.
     * @param keepForBackward whether {@link #backward} may follow
     * @return the summed cross-entropy in nats over every position whose target is not negative
     */
    public double forward(int[][] inputs, int[][] targets, RnnState state, boolean keepForBackward) {
        int batch = inputs.length;
        int time = validate(inputs, targets, state);
        backwardReady = false;
        if (ws == null || !ws.fits(batch, time)) {
            // two shapes are kept so that alternating training and evaluation batches do not reallocate
            Workspace other = spareWs != null && spareWs.fits(batch, time) ? spareWs
                    : new Workspace(arch, dtype, batch, time);
            spareWs = ws;
            ws = other;
        }
        // copied: the caller may refill its arrays before calling backward
        ids = timeMajorIds(inputs);
        if (embed > 0) {
            gatherEmbedding();
        }
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < directions; d++) {
                loadInitialState(l, d, state);
                inputProjection(l, d);
                recurrence(l, d);
                if (d == 0) {
                    saveFinalState(l, state);
                }
            }
        }
        headForward();
        double loss = softmaxCrossEntropy(targets, keepForBackward);
        backwardReady = keepForBackward;
        return loss;
    }

    /** Number of positions with a non-negative target in the last forward pass. */
    public long countedTargets() {
        return counted;
    }

    /**
     * Writes the gradient of {@code lossScale} times the last forward pass's summed loss with respect to every
     * parameter into {@link ParameterStore#grads()}, overwriting it.
     *
     * @throws IllegalStateException when the last forward pass did not keep what backward needs
     */
    public void backward(double lossScale) {
        if (!backwardReady) {
            throw new IllegalStateException("backward needs a preceding forward(..., keepForBackward=true)");
        }
        // one native fill; the gradients written by scatter loops below accumulate into it
        store.grads().assign(0);
        headBackward(lossScale);
        for (int l = layers - 1; l >= 0; l--) {
            for (int d = 0; d < directions; d++) {
                recurrenceBackward(l, d);
                inputBackward(l, d);
            }
        }
        if (embed > 0) {
            scatterEmbeddingGradient();
        }
    }

    /** Logits of the last forward pass as {@code [batch][time][vocab]}. */
    public float[][][] logits() {
        if (ws == null) {
            throw new IllegalStateException("no forward pass yet");
        }
        float[][][] out = new float[ws.batch][ws.time][vocab];
        for (int t = 0; t < ws.time; t++) {
            for (int b = 0; b < ws.batch; b++) {
                int base = (t * ws.batch + b) * vocab;
                for (int v = 0; v < vocab; v++) {
                    out[b][t][v] = (float) ws.logits.get(base + v);
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- forward

    private int validate(int[][] inputs, int[][] targets, RnnState state) {
        if (inputs.length == 0 || inputs[0].length == 0) {
            throw new IllegalArgumentException("a batch needs at least one row and one time step");
        }
        if (targets.length != inputs.length) {
            throw new IllegalArgumentException(inputs.length + " input rows but " + targets.length + " target rows");
        }
        int time = inputs[0].length;
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b].length != time || targets[b].length != time) {
                throw new IllegalArgumentException("row " + b + " does not have " + time + " inputs and targets");
            }
            for (int t = 0; t < time; t++) {
                if (inputs[b][t] < 0 || inputs[b][t] >= vocab) {
                    throw new IllegalArgumentException("input id " + inputs[b][t] + " outside vocabulary of " + vocab);
                }
                if (targets[b][t] >= vocab) {
                    throw new IllegalArgumentException("target id " + targets[b][t] + " outside vocabulary of "
                            + vocab);
                }
            }
        }
        if (state.batch() != inputs.length || state.hiddenSize() != hidden
                || state.layerDirections() != layers * directions
                || state.hasCell() != (cell == CellType.LSTM) || state.isDouble() != (dtype == DataType.DOUBLE)) {
            throw new IllegalArgumentException("state does not fit this network and batch of " + inputs.length
                    + "; create it with zeroState");
        }
        return time;
    }

    private static int[] timeMajorIds(int[][] inputs) {
        int batch = inputs.length;
        int time = inputs[0].length;
        int[] out = new int[time * batch];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                out[t * batch + b] = inputs[b][t];
            }
        }
        return out;
    }

    private void gatherEmbedding() {
        int table = store.offset(Architecture.EMBEDDING);
        for (int row = 0; row < ids.length; row++) {
            ws.x0.copy(params, table + ids[row] * embed, row * embed, embed);
        }
    }

    /** Width of one layer-output row: both directions side by side. */
    private int outWidth() {
        return directions * hidden;
    }

    /** Row of the output buffer holding step t (the guard block before step 0 is rows 0..batch-1). */
    private int outRow(int t) {
        return (t + 1) * ws.batch;
    }

    /** Row of the output buffer holding the state a direction's step t starts from. */
    private int previousRow(int t, int d) {
        return (d == 0 ? t : t + 2) * ws.batch;
    }

    /**
     * Left-to-right directions start from the carried state, in the guard block before step 0; right-to-left ones
     * from zero, in the guard block after step T−1 (their "previous" step lies past the end of this call).
     */
    private void loadInitialState(int l, int d, RnnState state) {
        int ld = l * directions + d;
        int width = outWidth();
        int guard = d == 0 ? 0 : ws.time + 1;
        for (int b = 0; b < ws.batch; b++) {
            int row = guard * ws.batch + b;
            if (d == 0) {
                ws.out[l].copy(state.h(ld), b * hidden, row * width, hidden);
            } else {
                ws.out[l].zero(row * width + hidden, hidden);
            }
            if (ws.cells != null) {
                if (d == 0) {
                    ws.cells[ld].copy(state.c(ld), b * hidden, row * hidden, hidden);
                } else {
                    ws.cells[ld].zero(row * hidden, hidden);
                }
            }
        }
    }

    private void saveFinalState(int l, RnnState state) {
        int ld = l * directions;
        int last = outRow(ws.time - 1);
        for (int b = 0; b < ws.batch; b++) {
            state.h(ld).copy(ws.out[l], (last + b) * outWidth(), b * hidden, hidden);
            if (ws.cells != null) {
                state.c(ld).copy(ws.cells[ld], (last + b) * hidden, b * hidden, hidden);
            }
        }
    }

    private int inputWidth(int l) {
        return l == 0 ? embed : outWidth();
    }

    /** The input of layer l, one row per (time, batch) position: {@code [time·batch, inputWidth(l)]}. */
    private Mat layerInput(int l) {
        return l == 0 ? Blas.mat(ws.x0, 0, embed) : Blas.mat(ws.out[l - 1], ws.batch * outWidth(), outWidth());
    }

    private Mat weight(String name, int columns) {
        return Blas.mat(params, store.offset(name), columns);
    }

    private Mat gradient(String name, int columns) {
        return Blas.mat(grads, store.offset(name), columns);
    }

    /** Fills the gate buffer with {@code x W_ihᵀ} for every step at once; biases are added in the step loop. */
    private void inputProjection(int l, int d) {
        int ld = l * directions + d;
        String wIh = Architecture.weightIh(l, d == 1);
        Block gates = ws.gates[ld];
        if (l == 0 && embed == 0) {
            // One-hot input: x W_ihᵀ is column x of W_ih, a gather rather than a GEMM over the vocabulary.
            int w = store.offset(wIh);
            for (int row = 0; row < ids.length; row++) {
                int id = ids[row];
                for (int j = 0; j < gateRows; j++) {
                    gates.set(row * gateRows + j, params.get(w + j * vocab + id));
                }
            }
        } else {
            int in = inputWidth(l);
            Blas.gemm(false, true, ws.rows, gateRows, in, 1, layerInput(l), weight(wIh, in), 0,
                    Blas.mat(gates, 0, gateRows));
        }
    }

    /** A bias vector as a Java array, read once per layer rather than once per step. */
    private double[] vector(String name, int length) {
        int first = store.offset(name);
        double[] out = new double[length];
        for (int j = 0; j < length; j++) {
            out[j] = params.get(first + j);
        }
        return out;
    }

    /**
     * The bias added to the input side of each gate: b_ih + b_hh, except that a GRU's candidate keeps b_hn on the
     * recurrent side, inside the reset product (or after W_hn), so only its r and z rows fold b_hh in.
     */
    private double[] inputBias(int l, int d) {
        double[] bias = vector(Architecture.biasIh(l, d == 1), gateRows);
        double[] recurrent = vector(Architecture.biasHh(l, d == 1), gateRows);
        int folded = cell == CellType.GRU ? 2 * hidden : gateRows;
        for (int j = 0; j < folded; j++) {
            bias[j] += recurrent[j];
        }
        return bias;
    }

    private void recurrence(int l, int d) {
        int ld = l * directions + d;
        Mat wHh = weight(Architecture.weightHh(l, d == 1), hidden);
        double[] bias = inputBias(l, d);
        double[] candidateBias = cell == CellType.GRU
                ? java.util.Arrays.copyOfRange(vector(Architecture.biasHh(l, d == 1), gateRows), 2 * hidden, gateRows)
                : null;
        if (ws.floats != null) {
            // once per layer and direction, not per step: the float rows' copy of the biases
            ws.floats.setBias(bias);
            if (candidateBias != null) {
                ws.floats.setCandidateBias(candidateBias);
            }
        }
        for (int step = 0; step < ws.time; step++) {
            int t = d == 0 ? step : ws.time - 1 - step;
            Mat hPrev = Blas.mat(ws.out[l], previousRow(t, d) * outWidth() + d * hidden, outWidth());
            switch (cell) {
                case RNN -> {
                    Blas.gemm(false, true, ws.batch, hidden, hidden, 1, hPrev, wHh, 1,
                            Blas.mat(ws.gates[ld], t * ws.batch * hidden, hidden));
                    rnnStep(ld, l, d, t, bias);
                }
                case LSTM -> {
                    Blas.gemm(false, true, ws.batch, gateRows, hidden, 1, hPrev, wHh, 1,
                            Blas.mat(ws.gates[ld], t * ws.batch * gateRows, gateRows));
                    lstmStep(ld, l, d, t, bias);
                }
                case GRU -> gruStep(ld, l, d, t, hPrev, wHh, bias, candidateBias);
            }
        }
    }

    // The element-wise parts of a step work on one batch row at a time, copied into heap arrays: loops over arrays
    // compile to SIMD code, while element access to the native blocks stays scalar and checks the buffer on every
    // call. Float32 networks (training) use float rows (FloatRows) and the vectorised Activations; float64 networks
    // (the gradient checks) use double rows and Math.exp. Each row function has one variant per precision.

    private void rnnStep(int ld, int l, int d, int t, double[] bias) {
        boolean relu = arch.activation() == RnnActivation.RELU;
        FloatRows floats = ws.floats;
        for (int b = 0; b < ws.batch; b++) {
            int z = (t * ws.batch + b) * hidden;
            int y = (outRow(t) + b) * outWidth() + d * hidden;
            if (floats != null) {
                float[] state = floats.units[0];
                floats(ws.gates[ld]).load(z, state, hidden);
                for (int j = 0; j < hidden; j++) {
                    state[j] = relu ? Math.max(state[j] + floats.bias[j], 0) : state[j] + floats.bias[j];
                }
                if (!relu) {
                    Activations.tanh(state, 0, hidden, floats.work);
                }
                floats(ws.out[l]).store(y, state, hidden);
            } else {
                double[] state = ws.units[0];
                doubles(ws.gates[ld]).load(z, state, 0, hidden);
                for (int j = 0; j < hidden; j++) {
                    state[j] = relu ? Math.max(state[j] + bias[j], 0) : state[j] + bias[j];
                }
                if (!relu) {
                    doubles(ws.out[l]).tanh(state, 0, hidden);
                }
                doubles(ws.out[l]).store(y, state, 0, hidden);
            }
        }
    }

    /** Gate activations (kept in the gate buffer for backward), c = f⊙c' + i⊙g, h = o⊙tanh(c). */
    private void lstmStep(int ld, int l, int d, int t, double[] bias) {
        FloatRows floats = ws.floats;
        for (int b = 0; b < ws.batch; b++) {
            int z = (t * ws.batch + b) * gateRows;
            int cellPrevAt = (previousRow(t, d) + b) * hidden;
            int cellAt = (outRow(t) + b) * hidden;
            int position = (t * ws.batch + b) * hidden;
            int y = (outRow(t) + b) * outWidth() + d * hidden;
            if (floats != null) {
                lstmRowFloat(ld, l, z, cellPrevAt, cellAt, position, y);
            } else {
                lstmRow(ld, l, z, cellPrevAt, cellAt, position, y, bias);
            }
        }
    }

    private void lstmRow(int ld, int l, int z, int cellPrevAt, int cellAt, int position, int y, double[] bias) {
        Block.F64 gates = doubles(ws.gates[ld]);
        int h = hidden;
        double[] gate = ws.gateRow;
        double[] cellPrev = ws.units[0];
        double[] cell = ws.units[1];
        double[] state = ws.units[2];
        gates.load(z, gate, 0, gateRows);
        for (int j = 0; j < gateRows; j++) {
            gate[j] += bias[j];
        }
        gates.sigmoid(gate, 0, 2 * h); // i, f
        gates.tanh(gate, 2 * h, h); // g
        gates.sigmoid(gate, 3 * h, h); // o
        gates.store(z, gate, 0, gateRows);
        doubles(ws.cells[ld]).load(cellPrevAt, cellPrev, 0, h);
        for (int j = 0; j < h; j++) {
            cell[j] = gate[h + j] * cellPrev[j] + gate[j] * gate[2 * h + j];
        }
        doubles(ws.cells[ld]).store(cellAt, cell, 0, h);
        doubles(ws.tanhCells[ld]).tanh(cell, 0, h);
        doubles(ws.tanhCells[ld]).store(position, cell, 0, h);
        for (int j = 0; j < h; j++) {
            state[j] = gate[3 * h + j] * cell[j];
        }
        doubles(ws.out[l]).store(y, state, 0, h);
    }

    /** {@link #lstmRow} in float32 (see {@link FloatRows}). */
    private void lstmRowFloat(int ld, int l, int z, int cellPrevAt, int cellAt, int position, int y) {
        FloatRows rows = ws.floats;
        int h = hidden;
        float[] gate = rows.gate;
        float[] bias = rows.bias;
        float[] cellPrev = rows.units[0];
        float[] cell = rows.units[1];
        float[] state = rows.units[2];
        floats(ws.gates[ld]).load(z, gate, gateRows);
        for (int j = 0; j < gateRows; j++) {
            gate[j] += bias[j];
        }
        Activations.sigmoid(gate, 0, 2 * h, rows.work); // i, f
        Activations.tanh(gate, 2 * h, 3 * h, rows.work); // g
        Activations.sigmoid(gate, 3 * h, 4 * h, rows.work); // o
        floats(ws.gates[ld]).store(z, gate, gateRows);
        floats(ws.cells[ld]).load(cellPrevAt, cellPrev, h);
        for (int j = 0; j < h; j++) {
            cell[j] = gate[h + j] * cellPrev[j] + gate[j] * gate[2 * h + j];
        }
        floats(ws.cells[ld]).store(cellAt, cell, h);
        Activations.tanh(cell, 0, h, rows.work);
        floats(ws.tanhCells[ld]).store(position, cell, h);
        for (int j = 0; j < h; j++) {
            state[j] = gate[3 * h + j] * cell[j];
        }
        floats(ws.out[l]).store(y, state, h);
    }

    /**
     * GRU step, PyTorch's equations: r, z = σ(W_i x + b_i + W_h h + b_h); n = tanh(W_in x + b_in + r ⊙ (W_hn h +
     * b_hn)) with {@code linear_before_reset}, else tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn); h' = n + z ⊙ (h − n).
     */
    private void gruStep(int ld, int l, int d, int t, Mat hPrev, Mat wHh, double[] bias, double[] candidateBias) {
        int h = hidden;
        boolean linearBeforeReset = arch.linearBeforeReset();
        FloatRows floats = ws.floats;
        // linear_before_reset: the whole recurrent product at once and one pass; otherwise r and z first, then
        // W_hn (r ⊙ h) needs a second product and a second pass
        Blas.gemm(false, true, ws.batch, linearBeforeReset ? gateRows : 2 * h, h, 1, hPrev, wHh, 0,
                Blas.mat(ws.recurrentProduct, 0, gateRows));
        for (int b = 0; b < ws.batch; b++) {
            int hp = hPrev.first() + b * hPrev.ld();
            if (floats != null) {
                gruGatesRowFloat(ld, l, t, b, hp);
            } else {
                gruGatesRow(ld, l, t, b, hp, bias);
            }
            if (linearBeforeReset) {
                gruOutput(ld, l, d, t, b, hp, bias, candidateBias);
            }
        }
        if (linearBeforeReset) {
            return;
        }
        Blas.gemm(false, true, ws.batch, h, h, 1, Blas.mat(ws.resetHidden[ld], t * ws.batch * h, h),
                Blas.mat(params, wHh.first() + 2 * h * h, h), 0, Blas.mat(ws.recurrentProduct, 2 * h, gateRows));
        for (int b = 0; b < ws.batch; b++) {
            gruOutput(ld, l, d, t, b, hPrev.first() + b * hPrev.ld(), bias, candidateBias);
        }
    }

    /** r and z of one batch row; without {@code linear_before_reset} also r ⊙ h for the second product. */
    private void gruGatesRow(int ld, int l, int t, int b, int hp, double[] bias) {
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        double[] gate = ws.gateRow;
        double[] recurrent = ws.recurrentRow;
        doubles(ws.gates[ld]).load(z, gate, 0, 2 * h);
        doubles(ws.recurrentProduct).load(b * gateRows, recurrent, 0, 2 * h);
        for (int j = 0; j < 2 * h; j++) {
            gate[j] += bias[j] + recurrent[j];
        }
        doubles(ws.gates[ld]).sigmoid(gate, 0, 2 * h);
        doubles(ws.gates[ld]).store(z, gate, 0, 2 * h);
        if (!arch.linearBeforeReset()) {
            double[] previous = ws.units[0];
            doubles(ws.out[l]).load(hp, previous, 0, h);
            for (int j = 0; j < h; j++) {
                previous[j] *= gate[j];
            }
            doubles(ws.resetHidden[ld]).store((t * ws.batch + b) * h, previous, 0, h);
        }
    }

    /** {@link #gruGatesRow} in float32 (see {@link FloatRows}). */
    private void gruGatesRowFloat(int ld, int l, int t, int b, int hp) {
        FloatRows rows = ws.floats;
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        float[] gate = rows.gate;
        float[] recurrent = rows.recurrent;
        float[] bias = rows.bias;
        floats(ws.gates[ld]).load(z, gate, 2 * h);
        floats(ws.recurrentProduct).load(b * gateRows, recurrent, 2 * h);
        for (int j = 0; j < 2 * h; j++) {
            gate[j] += bias[j] + recurrent[j];
        }
        Activations.sigmoid(gate, 0, 2 * h, rows.work);
        floats(ws.gates[ld]).store(z, gate, 2 * h);
        if (!arch.linearBeforeReset()) {
            float[] previous = rows.units[0];
            floats(ws.out[l]).load(hp, previous, h);
            for (int j = 0; j < h; j++) {
                previous[j] *= gate[j];
            }
            floats(ws.resetHidden[ld]).store((t * ws.batch + b) * h, previous, h);
        }
    }

    /** The candidate n and the new state h' of one batch row, once r and z are in the gate buffer. */
    private void gruOutput(int ld, int l, int d, int t, int b, int hp, double[] bias, double[] candidateBias) {
        if (ws.floats != null) {
            gruOutputFloat(ld, l, d, t, b, hp);
            return;
        }
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        double[] gate = ws.gateRow;
        double[] candidate = ws.units[1];
        double[] state = ws.units[2];
        doubles(ws.gates[ld]).load(z, gate, 0, gateRows);
        // W_hn h + b_hn, or W_hn (r ⊙ h) + b_hn, kept for backward
        doubles(ws.recurrentProduct).load(b * gateRows + 2 * h, candidate, 0, h);
        for (int j = 0; j < h; j++) {
            candidate[j] += candidateBias[j];
        }
        doubles(ws.candidateRecurrent[ld]).store((t * ws.batch + b) * h, candidate, 0, h);
        boolean linearBeforeReset = arch.linearBeforeReset();
        for (int j = 0; j < h; j++) {
            gate[2 * h + j] += bias[2 * h + j] + (linearBeforeReset ? gate[j] * candidate[j] : candidate[j]);
        }
        doubles(ws.gates[ld]).tanh(gate, 2 * h, h);
        doubles(ws.gates[ld]).store(z + 2 * h, gate, 2 * h, h);
        doubles(ws.out[l]).load(hp, state, 0, h);
        for (int j = 0; j < h; j++) {
            state[j] = gate[2 * h + j] + gate[h + j] * (state[j] - gate[2 * h + j]);
        }
        doubles(ws.out[l]).store((outRow(t) + b) * outWidth() + d * h, state, 0, h);
    }

    /** {@link #gruOutput} in float32 (see {@link FloatRows}). */
    private void gruOutputFloat(int ld, int l, int d, int t, int b, int hp) {
        FloatRows rows = ws.floats;
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        float[] gate = rows.gate;
        float[] bias = rows.bias;
        float[] candidate = rows.units[1];
        float[] state = rows.units[2];
        floats(ws.gates[ld]).load(z, gate, gateRows);
        floats(ws.recurrentProduct).load(b * gateRows + 2 * h, candidate, h);
        for (int j = 0; j < h; j++) {
            candidate[j] += rows.candidateBias[j];
        }
        floats(ws.candidateRecurrent[ld]).store((t * ws.batch + b) * h, candidate, h);
        boolean linearBeforeReset = arch.linearBeforeReset();
        for (int j = 0; j < h; j++) {
            gate[2 * h + j] += bias[2 * h + j] + (linearBeforeReset ? gate[j] * candidate[j] : candidate[j]);
        }
        Activations.tanh(gate, 2 * h, 3 * h, rows.work);
        floats(ws.gates[ld]).store(z + 2 * h, gate, 2 * h, h);
        floats(ws.out[l]).load(hp, state, h);
        for (int j = 0; j < h; j++) {
            state[j] = gate[2 * h + j] + gate[h + j] * (state[j] - gate[2 * h + j]);
        }
        floats(ws.out[l]).store((outRow(t) + b) * outWidth() + d * h, state, h);
    }

    /** The head's input: the top layer's output rows, or for the cloze objective the assembled features. */
    private Mat headInput() {
        int top = layers - 1;
        return directions == 1 ? Blas.mat(ws.out[top], ws.batch * hidden, hidden) : Blas.mat(ws.features, 0,
                2 * hidden);
    }

    /** Logits for all positions with one GEMM; the bias is added in the softmax loop. */
    private void headForward() {
        if (directions == 2) {
            assembleClozeFeatures();
        }
        int in = arch.headInputSize();
        Blas.gemm(false, true, ws.rows, vocab, in, 1, headInput(), weight(Architecture.HEAD_WEIGHT, in), 0,
                Blas.mat(ws.logits, 0, vocab));
    }

    /**
     * The cloze objective's input at step t: left-to-right output at t−1, right-to-left output at t+1, zero past
     * either end (not the carried state, which the guard block before step 0 holds).
     */
    private void assembleClozeFeatures() {
        Block top = ws.out[layers - 1];
        int width = 2 * hidden;
        for (int t = 0; t < ws.time; t++) {
            for (int b = 0; b < ws.batch; b++) {
                int row = (t * ws.batch + b) * width;
                if (t > 0) {
                    ws.features.copy(top, (outRow(t - 1) + b) * width, row, hidden);
                } else {
                    ws.features.zero(row, hidden);
                }
                // step T's row is the zero guard block
                ws.features.copy(top, (outRow(t + 1) + b) * width + hidden, row + hidden, hidden);
            }
        }
    }

    /**
     * Adds the head bias to the logits and takes a max-shifted log-softmax in double precision; with
     * {@code keepGradient} stores {@code softmax − onehot} per counted position (zero for ignored ones), scaled later.
     */
    private double softmaxCrossEntropy(int[][] targets, boolean keepGradient) {
        double[] bias = vector(Architecture.HEAD_BIAS, vocab);
        Block logits = ws.logits;
        Block dLogits = ws.dLogits;
        double[] probabilities = new double[vocab];
        double loss = 0;
        long n = 0;
        for (int t = 0; t < ws.time; t++) {
            for (int b = 0; b < ws.batch; b++) {
                int base = (t * ws.batch + b) * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    logits.set(base + v, logits.get(base + v) + bias[v]);
                    max = Math.max(max, logits.get(base + v));
                }
                int target = targets[b][t];
                if (target < 0) {
                    if (keepGradient) {
                        dLogits.zero(base, vocab);
                    }
                    continue;
                }
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    double e = Math.exp(logits.get(base + v) - max);
                    probabilities[v] = e;
                    sum += e;
                }
                loss += max + Math.log(sum) - logits.get(base + target);
                if (keepGradient) {
                    for (int v = 0; v < vocab; v++) {
                        dLogits.set(base + v, probabilities[v] / sum - (v == target ? 1 : 0));
                    }
                }
                n++;
            }
        }
        counted = n;
        return loss;
    }

    // ---------------------------------------------------------------- backward

    /** The loss scale enters as the GEMMs' alpha, so the stored softmax gradient is never rescaled. */
    private void headBackward(double scale) {
        int in = arch.headInputSize();
        Mat dLogits = Blas.mat(ws.dLogits, 0, vocab);
        Blas.gemm(true, false, vocab, in, ws.rows, scale, dLogits, headInput(), 0,
                gradient(Architecture.HEAD_WEIGHT, in));
        Blas.columnSums(ws.rows, vocab, scale, dLogits, ws.ones, grads, store.offset(Architecture.HEAD_BIAS));
        int top = layers - 1;
        if (directions == 1) {
            Blas.gemm(false, false, ws.rows, in, vocab, scale, dLogits, weight(Architecture.HEAD_WEIGHT, in), 0,
                    Blas.mat(ws.dOut[top], 0, hidden));
            return;
        }
        Blas.gemm(false, false, ws.rows, in, vocab, scale, dLogits, weight(Architecture.HEAD_WEIGHT, in), 0,
                Blas.mat(ws.dFeatures, 0, in));
        // the feature at t came from the left-to-right output at t−1 and the right-to-left output at t+1
        Block dTop = ws.dOut[top];
        dTop.zero(0, dTop.length);
        for (int t = 0; t < ws.time; t++) {
            for (int b = 0; b < ws.batch; b++) {
                int row = (t * ws.batch + b) * in;
                if (t > 0) {
                    dTop.copy(ws.dFeatures, row, ((t - 1) * ws.batch + b) * in, hidden);
                }
                if (t < ws.time - 1) {
                    dTop.copy(ws.dFeatures, row + hidden, ((t + 1) * ws.batch + b) * in + hidden, hidden);
                }
            }
        }
    }

    private void recurrenceBackward(int l, int d) {
        int ld = l * directions + d;
        String name = Architecture.weightHh(l, d == 1);
        Mat wHh = weight(name, hidden);
        ws.dh.zero(0, ws.dh.length);
        if (ws.dc != null) {
            ws.dc.zero(0, ws.dc.length);
        }
        Mat dh = Blas.mat(ws.dh, 0, hidden);
        for (int step = ws.time - 1; step >= 0; step--) {
            int t = d == 0 ? step : ws.time - 1 - step;
            Mat dGates = Blas.mat(ws.dGates[ld], t * ws.batch * gateRows, gateRows);
            // the last step processed has no earlier step to pass dh to: no gradient flows into the carried state
            boolean carry = step > 0;
            switch (cell) {
                case RNN -> {
                    rnnStepBackward(ld, l, d, t);
                    if (carry) {
                        Blas.gemm(false, false, ws.batch, hidden, hidden, 1, dGates, wHh, 0, dh);
                    }
                }
                case LSTM -> {
                    lstmStepBackward(ld, l, d, t);
                    if (carry) {
                        Blas.gemm(false, false, ws.batch, hidden, gateRows, 1, dGates, wHh, 0, dh);
                    }
                }
                case GRU -> gruStepBackward(ld, l, d, t, wHh, carry);
            }
        }
        // Every step's previous state is a row block of the layer's output buffer, so dW_hh = Σ_t dz_tᵀ h_{t−1} is
        // one GEMM over all positions rather than one accumulation per step.
        Mat previous = Blas.mat(ws.out[l], previousRow(0, d) * outWidth() + d * hidden, outWidth());
        Mat dWhh = gradient(name, hidden);
        Block recurrentSide = cell == CellType.GRU && arch.linearBeforeReset() ? ws.dRecurrent[ld] : ws.dGates[ld];
        Mat dRecurrent = Blas.mat(recurrentSide, 0, gateRows);
        if (cell == CellType.GRU && !arch.linearBeforeReset()) {
            // W_hn multiplies r ⊙ h, not h
            Blas.gemm(true, false, 2 * hidden, hidden, ws.rows, 1, dRecurrent, previous, 0, dWhh);
            Blas.gemm(true, false, hidden, hidden, ws.rows, 1, Blas.mat(recurrentSide, 2 * hidden, gateRows),
                    Blas.mat(ws.resetHidden[ld], 0, hidden), 0,
                    Blas.mat(grads, dWhh.first() + 2 * hidden * hidden, hidden));
        } else {
            Blas.gemm(true, false, gateRows, hidden, ws.rows, 1, dRecurrent, previous, 0, dWhh);
        }
        Blas.columnSums(ws.rows, gateRows, 1, dRecurrent, ws.ones, grads,
                store.offset(Architecture.biasHh(l, d == 1)));
    }

    /**
     * The gradient reaching the outputs of batch row b at step t, into {@code row}: from above (head or next layer)
     * plus the carry from step t+1.
     */
    private void outputGradient(int l, int d, int t, int b, double[] row) {
        double[] carry = ws.units[5];
        doubles(ws.dOut[l]).load((t * ws.batch + b) * outWidth() + d * hidden, row, 0, hidden);
        doubles(ws.dh).load(b * hidden, carry, 0, hidden);
        for (int j = 0; j < hidden; j++) {
            row[j] += carry[j];
        }
    }

    /** {@link #outputGradient} in float32. */
    private void outputGradientFloat(int l, int d, int t, int b, float[] row) {
        float[] carry = ws.floats.units[5];
        floats(ws.dOut[l]).load((t * ws.batch + b) * outWidth() + d * hidden, row, hidden);
        floats(ws.dh).load(b * hidden, carry, hidden);
        for (int j = 0; j < hidden; j++) {
            row[j] += carry[j];
        }
    }

    private void rnnStepBackward(int ld, int l, int d, int t) {
        boolean relu = arch.activation() == RnnActivation.RELU;
        for (int b = 0; b < ws.batch; b++) {
            int y = (outRow(t) + b) * outWidth() + d * hidden;
            int z = (t * ws.batch + b) * hidden;
            if (ws.floats != null) {
                float[] state = ws.floats.units[0];
                float[] dState = ws.floats.units[1];
                floats(ws.out[l]).load(y, state, hidden);
                outputGradientFloat(l, d, t, b, dState);
                for (int j = 0; j < hidden; j++) {
                    float h = state[j];
                    dState[j] *= relu ? (h > 0 ? 1 : 0) : 1 - h * h;
                }
                floats(ws.dGates[ld]).store(z, dState, hidden);
            } else {
                double[] state = ws.units[0];
                double[] dState = ws.units[1];
                doubles(ws.out[l]).load(y, state, 0, hidden);
                outputGradient(l, d, t, b, dState);
                for (int j = 0; j < hidden; j++) {
                    double h = state[j];
                    dState[j] *= relu ? (h > 0 ? 1 : 0) : 1 - h * h;
                }
                doubles(ws.dGates[ld]).store(z, dState, 0, hidden);
            }
        }
    }

    /** Gradients w.r.t. the LSTM gate pre-activations at step t; updates the cell-state carry {@code ws.dc}. */
    private void lstmStepBackward(int ld, int l, int d, int t) {
        for (int b = 0; b < ws.batch; b++) {
            int z = (t * ws.batch + b) * gateRows;
            int position = (t * ws.batch + b) * hidden;
            int cellPrevAt = (previousRow(t, d) + b) * hidden;
            if (ws.floats != null) {
                lstmRowBackwardFloat(ld, l, d, t, b, z, position, cellPrevAt);
            } else {
                lstmRowBackward(ld, l, d, t, b, z, position, cellPrevAt);
            }
        }
    }

    private void lstmRowBackward(int ld, int l, int d, int t, int b, int z, int position, int cellPrevAt) {
        int h = hidden;
        double[] gate = ws.gateRow;
        double[] dGate = ws.gradientRow;
        double[] tanhCell = ws.units[0];
        double[] cellPrev = ws.units[1];
        double[] dState = ws.units[2];
        double[] dCellCarry = ws.units[3];
        doubles(ws.gates[ld]).load(z, gate, 0, gateRows);
        doubles(ws.tanhCells[ld]).load(position, tanhCell, 0, h);
        doubles(ws.cells[ld]).load(cellPrevAt, cellPrev, 0, h);
        doubles(ws.dc).load(b * h, dCellCarry, 0, h);
        outputGradient(l, d, t, b, dState);
        for (int j = 0; j < h; j++) {
            double i = gate[j];
            double f = gate[h + j];
            double g = gate[2 * h + j];
            double o = gate[3 * h + j];
            double tc = tanhCell[j];
            // dc = dc_carry + dh ⊙ o ⊙ (1 − tanh²c)
            double dCell = dCellCarry[j] + dState[j] * o * (1 - tc * tc);
            dGate[j] = dCell * g * i * (1 - i);
            dGate[h + j] = dCell * cellPrev[j] * f * (1 - f);
            dGate[2 * h + j] = dCell * i * (1 - g * g);
            dGate[3 * h + j] = dState[j] * tc * o * (1 - o);
            dCellCarry[j] = dCell * f;
        }
        doubles(ws.dGates[ld]).store(z, dGate, 0, gateRows);
        doubles(ws.dc).store(b * h, dCellCarry, 0, h);
    }

    /** {@link #lstmRowBackward} in float32 (see {@link FloatRows}). */
    private void lstmRowBackwardFloat(int ld, int l, int d, int t, int b, int z, int position, int cellPrevAt) {
        FloatRows rows = ws.floats;
        int h = hidden;
        float[] gate = rows.gate;
        float[] dGate = rows.gradient;
        float[] tanhCell = rows.units[0];
        float[] cellPrev = rows.units[1];
        float[] dState = rows.units[2];
        float[] dCellCarry = rows.units[3];
        floats(ws.gates[ld]).load(z, gate, gateRows);
        floats(ws.tanhCells[ld]).load(position, tanhCell, h);
        floats(ws.cells[ld]).load(cellPrevAt, cellPrev, h);
        floats(ws.dc).load(b * h, dCellCarry, h);
        outputGradientFloat(l, d, t, b, dState);
        for (int j = 0; j < h; j++) {
            float i = gate[j];
            float f = gate[h + j];
            float g = gate[2 * h + j];
            float o = gate[3 * h + j];
            float tc = tanhCell[j];
            float dCell = dCellCarry[j] + dState[j] * o * (1 - tc * tc);
            dGate[j] = dCell * g * i * (1 - i);
            dGate[h + j] = dCell * cellPrev[j] * f * (1 - f);
            dGate[2 * h + j] = dCell * i * (1 - g * g);
            dGate[3 * h + j] = dState[j] * tc * o * (1 - o);
            dCellCarry[j] = dCell * f;
        }
        floats(ws.dGates[ld]).store(z, dGate, gateRows);
        floats(ws.dc).store(b * h, dCellCarry, h);
    }

    private void gruStepBackward(int ld, int l, int d, int t, Mat wHh, boolean carry) {
        boolean linearBeforeReset = arch.linearBeforeReset();
        int h = hidden;
        int previous = previousRow(t, d);
        for (int b = 0; b < ws.batch; b++) {
            int hp = (previous + b) * outWidth() + d * h;
            if (ws.floats != null) {
                gruRowBackwardFloat(ld, l, d, t, b, hp);
            } else {
                gruRowBackward(ld, l, d, t, b, hp);
            }
        }
        Mat dhMat = Blas.mat(ws.dh, 0, h);
        if (linearBeforeReset) {
            if (carry) {
                Blas.gemm(false, false, ws.batch, h, gateRows, 1, Blas.mat(ws.dRecurrent[ld],
                        t * ws.batch * gateRows, gateRows), wHh, 1, dhMat);
            }
            return;
        }
        // d(r ⊙ h) = dn W_hn, then split into dr and the direct part of dh
        Blas.gemm(false, false, ws.batch, h, h, 1, Blas.mat(ws.dGates[ld], (t * ws.batch) * gateRows + 2 * h,
                gateRows), Blas.mat(params, wHh.first() + 2 * h * h, h), 0, Blas.mat(ws.scratch, 0, h));
        for (int b = 0; b < ws.batch; b++) {
            int hp = (previous + b) * outWidth() + d * h;
            if (ws.floats != null) {
                gruResetRowBackwardFloat(ld, l, t, b, hp);
            } else {
                gruResetRowBackward(ld, l, t, b, hp);
            }
        }
        if (carry) {
            Blas.gemm(false, false, ws.batch, h, 2 * h, 1, Blas.mat(ws.dGates[ld], t * ws.batch * gateRows,
                    gateRows), wHh, 1, dhMat);
        }
    }

    /**
     * dz, dn and the direct part of dh for one batch row; with {@code linear_before_reset} also dr and the gradient
     * of the recurrent product. Without it, dr needs dn W_hn first ({@link #gruResetRowBackward}).
     */
    private void gruRowBackward(int ld, int l, int d, int t, int b, int hp) {
        boolean linearBeforeReset = arch.linearBeforeReset();
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        double[] gate = ws.gateRow;
        double[] dGate = ws.gradientRow;
        double[] dRecurrent = ws.recurrentRow;
        double[] state = ws.units[0];
        double[] candidate = ws.units[1];
        double[] dState = ws.units[2];
        double[] dPrevious = ws.units[3];
        doubles(ws.gates[ld]).load(z, gate, 0, gateRows);
        doubles(ws.out[l]).load(hp, state, 0, h);
        outputGradient(l, d, t, b, dState);
        if (linearBeforeReset) {
            doubles(ws.candidateRecurrent[ld]).load((t * ws.batch + b) * h, candidate, 0, h);
        }
        for (int j = 0; j < h; j++) {
            double r = gate[j];
            double u = gate[h + j];
            double n = gate[2 * h + j];
            double dOut = dState[j];
            // h' = n + z ⊙ (h − n): dz = dh' ⊙ (h − n), dh_direct = dh' ⊙ z, dn = dh' ⊙ (1 − z)
            double dN = dOut * (1 - u) * (1 - n * n);
            dGate[h + j] = dOut * (state[j] - n) * u * (1 - u);
            dGate[2 * h + j] = dN;
            dPrevious[j] = dOut * u;
            if (linearBeforeReset) {
                double dRz = dN * candidate[j] * r * (1 - r);
                dGate[j] = dRz;
                dRecurrent[j] = dRz;
                dRecurrent[h + j] = dGate[h + j];
                dRecurrent[2 * h + j] = dN * r;
            }
        }
        int from = linearBeforeReset ? 0 : h;
        doubles(ws.dGates[ld]).store(z + from, dGate, from, gateRows - from);
        doubles(ws.dh).store(b * h, dPrevious, 0, h);
        if (linearBeforeReset) {
            doubles(ws.dRecurrent[ld]).store(z, dRecurrent, 0, gateRows);
        }
    }

    /** {@link #gruRowBackward} in float32 (see {@link FloatRows}). */
    private void gruRowBackwardFloat(int ld, int l, int d, int t, int b, int hp) {
        FloatRows rows = ws.floats;
        boolean linearBeforeReset = arch.linearBeforeReset();
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        float[] gate = rows.gate;
        float[] dGate = rows.gradient;
        float[] dRecurrent = rows.recurrent;
        float[] state = rows.units[0];
        float[] candidate = rows.units[1];
        float[] dState = rows.units[2];
        float[] dPrevious = rows.units[3];
        floats(ws.gates[ld]).load(z, gate, gateRows);
        floats(ws.out[l]).load(hp, state, h);
        outputGradientFloat(l, d, t, b, dState);
        if (linearBeforeReset) {
            floats(ws.candidateRecurrent[ld]).load((t * ws.batch + b) * h, candidate, h);
        }
        for (int j = 0; j < h; j++) {
            float r = gate[j];
            float u = gate[h + j];
            float n = gate[2 * h + j];
            float dOut = dState[j];
            float dN = dOut * (1 - u) * (1 - n * n);
            dGate[h + j] = dOut * (state[j] - n) * u * (1 - u);
            dGate[2 * h + j] = dN;
            dPrevious[j] = dOut * u;
            if (linearBeforeReset) {
                float dRz = dN * candidate[j] * r * (1 - r);
                dGate[j] = dRz;
                dRecurrent[j] = dRz;
                dRecurrent[h + j] = dGate[h + j];
                dRecurrent[2 * h + j] = dN * r;
            }
        }
        int from = linearBeforeReset ? 0 : h;
        floats(ws.dGates[ld]).store(z + from, dGate, from, gateRows - from);
        floats(ws.dh).store(b * h, dPrevious, h);
        if (linearBeforeReset) {
            floats(ws.dRecurrent[ld]).store(z, dRecurrent, gateRows);
        }
    }

    /** Without {@code linear_before_reset}: dr and the reset part of dh from d(r ⊙ h) = dn W_hn (in scratch). */
    private void gruResetRowBackward(int ld, int l, int t, int b, int hp) {
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        double[] gate = ws.gateRow;
        double[] dGate = ws.gradientRow;
        double[] state = ws.units[0];
        double[] dPrevious = ws.units[3];
        double[] dResetHidden = ws.units[4];
        doubles(ws.gates[ld]).load(z, gate, 0, h);
        doubles(ws.out[l]).load(hp, state, 0, h);
        doubles(ws.scratch).load(b * h, dResetHidden, 0, h);
        doubles(ws.dh).load(b * h, dPrevious, 0, h);
        for (int j = 0; j < h; j++) {
            double r = gate[j];
            dGate[j] = dResetHidden[j] * state[j] * r * (1 - r);
            dPrevious[j] += dResetHidden[j] * r;
        }
        doubles(ws.dGates[ld]).store(z, dGate, 0, h);
        doubles(ws.dh).store(b * h, dPrevious, 0, h);
    }

    /** {@link #gruResetRowBackward} in float32 (see {@link FloatRows}). */
    private void gruResetRowBackwardFloat(int ld, int l, int t, int b, int hp) {
        FloatRows rows = ws.floats;
        int h = hidden;
        int z = (t * ws.batch + b) * gateRows;
        float[] gate = rows.gate;
        float[] dGate = rows.gradient;
        float[] state = rows.units[0];
        float[] dPrevious = rows.units[3];
        float[] dResetHidden = rows.units[4];
        floats(ws.gates[ld]).load(z, gate, h);
        floats(ws.out[l]).load(hp, state, h);
        floats(ws.scratch).load(b * h, dResetHidden, h);
        floats(ws.dh).load(b * h, dPrevious, h);
        for (int j = 0; j < h; j++) {
            float r = gate[j];
            dGate[j] = dResetHidden[j] * state[j] * r * (1 - r);
            dPrevious[j] += dResetHidden[j] * r;
        }
        floats(ws.dGates[ld]).store(z, dGate, h);
        floats(ws.dh).store(b * h, dPrevious, h);
    }

    private void inputBackward(int l, int d) {
        int ld = l * directions + d;
        String wIh = Architecture.weightIh(l, d == 1);
        Mat dGates = Blas.mat(ws.dGates[ld], 0, gateRows);
        Blas.columnSums(ws.rows, gateRows, 1, dGates, ws.ones, grads, store.offset(Architecture.biasIh(l, d == 1)));
        if (l == 0 && embed == 0) {
            scatterOneHotGradient(ws.dGates[ld], store.offset(wIh));
            return;
        }
        int in = inputWidth(l);
        Blas.gemm(true, false, gateRows, in, ws.rows, 1, dGates, layerInput(l), 0, gradient(wIh, in));
        // both directions read the same input: the second adds to the first
        Mat dInput = l == 0 ? Blas.mat(ws.dx0, 0, embed) : Blas.mat(ws.dOut[l - 1], 0, outWidth());
        Blas.gemm(false, false, ws.rows, in, gateRows, 1, dGates, weight(wIh, in), d == 0 ? 0 : 1, dInput);
    }

    /** One-hot input: W_ih's column for symbol x receives the gate gradients of every position reading x. */
    private void scatterOneHotGradient(Block dGates, int first) {
        for (int row = 0; row < ids.length; row++) {
            int id = ids[row];
            for (int j = 0; j < gateRows; j++) {
                grads.add(first + j * vocab + id, dGates.get(row * gateRows + j));
            }
        }
    }

    private void scatterEmbeddingGradient() {
        int first = store.offset(Architecture.EMBEDDING);
        for (int row = 0; row < ids.length; row++) {
            int target = first + ids[row] * embed;
            for (int j = 0; j < embed; j++) {
                grads.add(target + j, ws.dx0.get(row * embed + j));
            }
        }
    }

    private static Block.F32 floats(Block block) {
        return (Block.F32) block;
    }

    private static Block.F64 doubles(Block block) {
        return (Block.F64) block;
    }

    /**
     * Heap rows for the float32 variants of the row functions: compared with double rows they need no conversion at
     * each load and store (0.27 ns per element against 0.09 ns for a plain copy, measured), use twice the SIMD lanes
     * and feed {@link Activations} directly; an LSTM training step took 281 ms with double rows and 253 ms with these.
     * The double-row functions serve float64, the gradient checks' precision; {@code FloatPathTest} holds the two
     * variants within float32 roundoff of each other.
     */
    private static final class FloatRows {
        final float[] gate;
        final float[] gradient;
        final float[] recurrent;
        final float[] work;
        final float[][] units;
        final float[] bias;
        final float[] candidateBias;

        FloatRows(int gateRows, int hidden) {
            gate = new float[gateRows];
            gradient = new float[gateRows];
            recurrent = new float[gateRows];
            work = new float[gateRows];
            units = new float[6][hidden];
            bias = new float[gateRows];
            candidateBias = new float[hidden];
        }

        void setBias(double[] values) {
            for (int j = 0; j < values.length; j++) {
                bias[j] = (float) values[j];
            }
        }

        void setCandidateBias(double[] values) {
            for (int j = 0; j < values.length; j++) {
                candidateBias[j] = (float) values[j];
            }
        }
    }

    /** Buffers for one (batch, time) shape, reused across calls of that shape. */
    private static final class Workspace {
        final int batch;
        final int time;
        /** time · batch: the row count of every per-position matrix. */
        final int rows;
        final Block x0;
        final Block dx0;
        /** Per layer: outputs with a guard block before step 0 and after step T−1, {@code [(T+2)·batch, dirs·H]}. */
        final Block[] out;
        /** Per layer: gradient w.r.t. the outputs, {@code [T·batch, dirs·H]}. */
        final Block[] dOut;
        /** Per layer and direction: x W_ihᵀ, then the gate activations. */
        final Block[] gates;
        final Block[] dGates;
        /** LSTM cell states, guard blocks as for {@link #out}. */
        final Block[] cells;
        final Block[] tanhCells;
        /** GRU: W_hn h + b_hn (or W_hn (r ⊙ h) + b_hn), one row per position. */
        final Block[] candidateRecurrent;
        /** GRU with linear_before_reset: gradient w.r.t. the recurrent product, which differs from dGates in n. */
        final Block[] dRecurrent;
        /** GRU without linear_before_reset: r ⊙ h per position. */
        final Block[] resetHidden;
        final Block recurrentProduct;
        final Block features;
        final Block dFeatures;
        final Block logits;
        final Block dLogits;
        final Block dh;
        final Block dc;
        final Block scratch;
        final Block ones;
        /** Heap copies of one batch row for the element-wise passes: gates, their gradients, a recurrent product. */
        final double[] gateRow;
        final double[] gradientRow;
        final double[] recurrentRow;
        /** Heap rows of one hidden vector each (states, cells, their gradients). */
        final double[][] units;
        /** Float rows for the float32 path; null for float64. */
        final FloatRows floats;

        boolean fits(int batch, int time) {
            return this.batch == batch && this.time == time;
        }

        Workspace(Architecture arch, DataType dtype, int batch, int time) {
            this.batch = batch;
            this.time = time;
            this.rows = Math.multiplyExact(time, batch);
            int h = arch.hiddenSize();
            int dirs = arch.directions();
            int gateRows = arch.cell().gates() * h;
            int n = arch.layers() * dirs;
            boolean lstm = arch.cell() == CellType.LSTM;
            boolean gru = arch.cell() == CellType.GRU;
            boolean linearBeforeReset = arch.linearBeforeReset();
            int embed = arch.embedDim();
            int guarded = (time + 2) * batch;
            x0 = embed > 0 ? Block.allocate(dtype, rows * embed) : null;
            dx0 = embed > 0 ? Block.allocate(dtype, rows * embed) : null;
            out = new Block[arch.layers()];
            dOut = new Block[arch.layers()];
            for (int l = 0; l < arch.layers(); l++) {
                out[l] = Block.allocate(dtype, guarded * dirs * h);
                dOut[l] = Block.allocate(dtype, rows * dirs * h);
            }
            gates = new Block[n];
            dGates = new Block[n];
            cells = lstm ? new Block[n] : null;
            tanhCells = lstm ? new Block[n] : null;
            candidateRecurrent = gru ? new Block[n] : null;
            dRecurrent = gru && linearBeforeReset ? new Block[n] : null;
            resetHidden = gru && !linearBeforeReset ? new Block[n] : null;
            for (int i = 0; i < n; i++) {
                gates[i] = Block.allocate(dtype, rows * gateRows);
                dGates[i] = Block.allocate(dtype, rows * gateRows);
                if (lstm) {
                    cells[i] = Block.allocate(dtype, guarded * h);
                    tanhCells[i] = Block.allocate(dtype, rows * h);
                }
                if (gru) {
                    candidateRecurrent[i] = Block.allocate(dtype, rows * h);
                    if (linearBeforeReset) {
                        dRecurrent[i] = Block.allocate(dtype, rows * gateRows);
                    } else {
                        resetHidden[i] = Block.allocate(dtype, rows * h);
                    }
                }
            }
            recurrentProduct = gru ? Block.allocate(dtype, batch * gateRows) : null;
            features = dirs == 2 ? Block.allocate(dtype, rows * 2 * h) : null;
            dFeatures = dirs == 2 ? Block.allocate(dtype, rows * 2 * h) : null;
            logits = Block.allocate(dtype, rows * arch.vocabSize());
            dLogits = Block.allocate(dtype, rows * arch.vocabSize());
            dh = Block.allocate(dtype, batch * h);
            dc = lstm ? Block.allocate(dtype, batch * h) : null;
            scratch = Block.allocate(dtype, batch * h);
            ones = Block.allocate(dtype, rows);
            gateRow = new double[gateRows];
            gradientRow = new double[gateRows];
            recurrentRow = new double[gateRows];
            units = new double[6][h];
            floats = dtype == DataType.FLOAT ? new FloatRows(gateRows, h) : null;
            for (int i = 0; i < rows; i++) {
                ones.set(i, 1);
            }
        }
    }
}
