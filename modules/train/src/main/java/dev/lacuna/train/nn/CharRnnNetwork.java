package dev.lacuna.train.nn;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.RnnActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.transforms.same.OneMinus;
import org.nd4j.linalg.api.ops.impl.transforms.same.Sign;
import org.nd4j.linalg.api.ops.impl.transforms.same.TimesOneMinus;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Hand-written forward and backward passes of a character-level RNN, GRU or LSTM stack with an embedding (or
 * one-hot input) and a linear softmax head, on the parameters of a {@link ParameterStore}.
 *
 * <p>Layout: every activation is held transposed, {@code [features, batch]} per time step, in time-major buffers.
 * With PyTorch's row-packed gates, one recurrent GEMM {@code W_hh · h} then yields all gates of a step with each
 * gate a contiguous row block, so every elementwise op runs on a contiguous buffer and no weight needs reordering.
 * Work that does not depend on the recurrence (input projections, their gradients, bias gradients, activation
 * slopes) is done for all steps at once in a few large calls, because ND4J's per-call overhead dominates small ops.
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
    private final int hidden;
    private final int gateRows;
    private final int directions;
    private final int vocab;

    private Workspace ws;
    private Workspace spareWs;
    /** Input ids of the last forward pass, time-major: {@code ids[t * batch + b]}. */
    private int[] ids;
    private double[] lastLogits;
    private double[] lossGradient;
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
        this.hidden = arch.hiddenSize();
        this.gateRows = arch.cell().gates() * hidden;
        this.directions = arch.directions();
        this.vocab = arch.vocabSize();
    }

    /** An all-zero state for {@code batch} rows, in the store's precision. */
    public RnnState zeroState(int batch) {
        return new RnnState(arch.cell(), arch.layers(), directions, hidden, batch, dtype);
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
            Workspace other = spareWs != null && spareWs.fits(batch, time) ? spareWs : new Workspace(arch, dtype,
                    batch, time);
            spareWs = ws;
            ws = other;
        }
        // copied: the caller may refill its arrays before calling backward
        ids = timeMajorIds(inputs);
        if (arch.embedDim() > 0) {
            gatherEmbedding();
        }
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < directions; d++) {
                int ld = l * directions + d;
                loadInitialState(ld, d, state);
                inputProjection(l, d);
                recurrence(l, d);
                if (d == 0) {
                    int last = time - 1;
                    state.h(ld).assign(ws.y[l].rows(last, 0, hidden));
                    if (ws.cells != null) {
                        state.c(ld).assign(ws.cells[ld].at(last));
                    }
                }
            }
        }
        headForward();
        double loss = softmaxCrossEntropy(targets);
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
        store.grads().assign(0);
        double[] scaled = new double[lossGradient.length];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = lossScale * lossGradient[i];
        }
        ws.dLogits.assign(Nd4j.createFromArray(scaled).castTo(dtype).reshape((long) ws.time * ws.batch, vocab));
        headBackward();
        for (int l = arch.layers() - 1; l >= 0; l--) {
            if (l > 0) {
                ws.dy[l - 1].all.assign(0);
            } else if (ws.dx0 != null) {
                ws.dx0.all.assign(0);
            }
            for (int d = 0; d < directions; d++) {
                recurrenceBackward(l, d);
                inputBackward(l, d);
            }
        }
        if (arch.embedDim() > 0) {
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
                    out[b][t][v] = (float) lastLogits[base + v];
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
                || state.layerDirections() != arch.layers() * directions
                || state.hasCell() != (arch.cell() == CellType.LSTM) || state.h(0).dataType() != dtype) {
            throw new IllegalArgumentException("state does not fit this network and batch of " + inputs.length
                    + "; create it with zeroState");
        }
        return time;
    }

    /** Right-to-left directions start from zero: their "previous" step lies past the end of this call. */
    private void loadInitialState(int ld, int d, RnnState state) {
        if (d == 0) {
            ws.h0[ld].assign(state.h(ld));
        } else {
            ws.h0[ld].assign(0);
        }
        if (ws.c0 != null) {
            if (d == 0) {
                ws.c0[ld].assign(state.c(ld));
            } else {
                ws.c0[ld].assign(0);
            }
        }
    }

    private void gatherEmbedding() {
        INDArray rows = Nd4j.pullRows(store.param(Architecture.EMBEDDING), 1, ids);
        ws.x0.all.assign(rows.reshape(ws.time, ws.batch, arch.embedDim()));
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

    /** Fills the gate buffer with {@code W_ih x + b} for every step, the part that does not depend on the state. */
    private void inputProjection(int l, int d) {
        boolean reverse = d == 1;
        int ld = l * directions + d;
        INDArray wIh = store.param(Architecture.weightIh(l, reverse));
        TimeBuffer z = ws.gates[ld];
        INDArray projected;
        if (l == 0 && arch.embedDim() == 0) {
            // One-hot input: W_ih x is column x of W_ih, a gather rather than a GEMM over the vocabulary.
            projected = Nd4j.pullRows(wIh.transpose().dup('c'), 1, ids);
        } else {
            // One GEMM over all time·batch rows (about 50 GFLOP/s here) beats one per step with only `batch`
            // columns (about 30); the rows are then transposed into the per-step gate layout in one op.
            if (l > 0 && d == 0) {
                ws.layerInput[l].assign(ws.y[l - 1].all.permute(0, 2, 1));
            }
            projected = ws.natural.reshape((long) ws.time * ws.batch, gateRows);
            Nd4j.gemm(layerInput(l), wIh, projected, false, true, 1.0, 0.0);
        }
        z.all.assign(projected.reshape(ws.time, ws.batch, gateRows).permute(0, 2, 1));
        INDArray bIh = store.param(Architecture.biasIh(l, reverse));
        INDArray bHh = store.param(Architecture.biasHh(l, reverse));
        INDArray bias = bIh.dup();
        if (arch.cell() == CellType.GRU) {
            // The candidate's recurrent bias b_hn sits inside the reset product (or after W_hn), so only the
            // r and z rows can fold b_hh into the input projection.
            rows(bias, 0, 2 * hidden).addi(rows(bHh, 0, 2 * hidden));
            TimeBuffer rn = ws.candidateRecurrent[ld];
            rn.all.assign(0);
            Nd4j.exec(new BroadcastAddOp(rn.all, rows(bHh, 2 * hidden, 3 * hidden), rn.all, 1));
        } else {
            bias.addi(bHh);
        }
        Nd4j.exec(new BroadcastAddOp(z.all, bias, z.all, 1));
    }

    /**
     * Rows {@code from .. to-1} of a contiguous row-major matrix or vector, as a view. Built directly because
     * {@code INDArray.get(interval)} on such a view returned an empty array for some shapes (ND4J 1.0.0-M2.1,
     * e.g. rows 12..17 of an [18, 6] parameter view).
     */
    private static INDArray rows(INDArray a, int from, int to) {
        long rowLength = a.rank() == 1 ? 1 : a.size(1);
        long[] shape = a.rank() == 1 ? new long[] {to - from} : new long[] {to - from, rowLength};
        long[] stride = a.rank() == 1 ? new long[] {1} : new long[] {rowLength, 1};
        return Nd4j.create(a.data(), shape, stride, a.offset() + from * rowLength, 'c', a.dataType());
    }

    private void recurrence(int l, int d) {
        int ld = l * directions + d;
        INDArray wHh = store.param(Architecture.weightHh(l, d == 1));
        TimeBuffer z = ws.gates[ld];
        TimeBuffer y = ws.y[l];
        int row0 = d * hidden;
        for (int step = 0; step < ws.time; step++) {
            int t = d == 0 ? step : ws.time - 1 - step;
            int prevT = d == 0 ? t - 1 : t + 1;
            INDArray hPrev = step == 0 ? ws.h0[ld] : y.rows(prevT, row0, hidden);
            INDArray out = y.rows(t, row0, hidden);
            switch (arch.cell()) {
                case RNN -> {
                    INDArray pre = z.at(t);
                    Nd4j.gemm(wHh, hPrev, pre, false, false, 1.0, 1.0);
                    if (arch.activation() == RnnActivation.RELU) {
                        Nd4j.exec(new RectifiedLinear(pre, out, 0.0));
                    } else {
                        Nd4j.exec(new Tanh(pre, out));
                    }
                }
                case LSTM -> {
                    Nd4j.gemm(wHh, hPrev, z.at(t), false, false, 1.0, 1.0);
                    INDArray inputForget = z.rows(t, 0, 2 * hidden);
                    INDArray i = z.rows(t, 0, hidden);
                    INDArray f = z.rows(t, hidden, hidden);
                    INDArray g = z.rows(t, 2 * hidden, hidden);
                    INDArray o = z.rows(t, 3 * hidden, hidden);
                    Nd4j.exec(new Sigmoid(inputForget, inputForget));
                    Nd4j.exec(new Tanh(g, g));
                    Nd4j.exec(new Sigmoid(o, o));
                    INDArray cPrev = step == 0 ? ws.c0[ld] : ws.cells[ld].at(prevT);
                    INDArray c = ws.cells[ld].at(t);
                    f.mul(cPrev, c);
                    c.addi(i.mul(g, ws.s1));
                    INDArray tanhC = ws.tanhCells[ld].at(t);
                    Nd4j.exec(new Tanh(c, tanhC));
                    o.mul(tanhC, out);
                }
                case GRU -> gruStep(ld, wHh, z, t, hPrev, out);
            }
        }
    }

    private void gruStep(int ld, INDArray wHh, TimeBuffer z, int t, INDArray hPrev, INDArray out) {
        INDArray resetUpdate = z.rows(t, 0, 2 * hidden);
        INDArray r = z.rows(t, 0, hidden);
        INDArray u = z.rows(t, hidden, hidden);
        INDArray n = z.rows(t, 2 * hidden, hidden);
        INDArray wResetUpdate = rows(wHh, 0, 2 * hidden);
        INDArray wCandidate = rows(wHh, 2 * hidden, 3 * hidden);
        INDArray recurrentN = ws.candidateRecurrent[ld].at(t);
        Nd4j.gemm(wResetUpdate, hPrev, resetUpdate, false, false, 1.0, 1.0);
        Nd4j.exec(new Sigmoid(resetUpdate, resetUpdate));
        if (arch.linearBeforeReset()) {
            Nd4j.gemm(wCandidate, hPrev, recurrentN, false, false, 1.0, 1.0);
            n.addi(r.mul(recurrentN, ws.s1));
        } else {
            INDArray resetHidden = ws.resetHidden[ld].at(t);
            r.mul(hPrev, resetHidden);
            Nd4j.gemm(wCandidate, resetHidden, recurrentN, false, false, 1.0, 1.0);
            n.addi(recurrentN);
        }
        Nd4j.exec(new Tanh(n, n));
        // h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
        hPrev.sub(n, ws.s1).muli(u);
        n.add(ws.s1, out);
    }

    /**
     * Logits for all positions with one GEMM: the head's inputs are first transposed to one row per (time, batch)
     * position, which also gives the softmax contiguous rows.
     */
    private void headForward() {
        TimeBuffer features = directions == 1 ? ws.y[arch.layers() - 1] : ws.features;
        if (directions == 2) {
            for (int t = 0; t < ws.time; t++) {
                assembleClozeFeature(t);
            }
        }
        ws.headInput.assign(features.all.permute(0, 2, 1));
        Nd4j.gemm(headInputRows(), store.param(Architecture.HEAD_WEIGHT), ws.logits, false, true, 1.0, 0.0);
        ws.logits.addiRowVector(store.param(Architecture.HEAD_BIAS));
    }

    private INDArray headInputRows() {
        return ws.headInput.reshape((long) ws.time * ws.batch, arch.headInputSize());
    }

    /** The cloze objective's input at step t: left-to-right output at t−1, right-to-left output at t+1. */
    private void assembleClozeFeature(int t) {
        TimeBuffer top = ws.y[arch.layers() - 1];
        INDArray left = ws.features.rows(t, 0, hidden);
        INDArray right = ws.features.rows(t, hidden, hidden);
        if (t > 0) {
            left.assign(top.rows(t - 1, 0, hidden));
        } else {
            left.assign(0);
        }
        if (t < ws.time - 1) {
            right.assign(top.rows(t + 1, hidden, hidden));
        } else {
            right.assign(0);
        }
    }

    /** Log-softmax in double precision, max-shifted; keeps {@code softmax − onehot} per counted position. */
    private double softmaxCrossEntropy(int[][] targets) {
        lastLogits = flat(ws.logits);
        lossGradient = new double[lastLogits.length];
        int batch = ws.batch;
        double loss = 0;
        long n = 0;
        for (int t = 0; t < ws.time; t++) {
            for (int b = 0; b < batch; b++) {
                int target = targets[b][t];
                if (target < 0) {
                    continue;
                }
                int base = (t * batch + b) * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = base; v < base + vocab; v++) {
                    max = Math.max(max, lastLogits[v]);
                }
                double sum = 0;
                for (int v = base; v < base + vocab; v++) {
                    double e = Math.exp(lastLogits[v] - max);
                    lossGradient[v] = e;
                    sum += e;
                }
                loss += max + Math.log(sum) - lastLogits[base + target];
                for (int v = base; v < base + vocab; v++) {
                    lossGradient[v] /= sum;
                }
                lossGradient[base + target] -= 1;
                n++;
            }
        }
        counted = n;
        return loss;
    }

    // ---------------------------------------------------------------- backward

    private void headBackward() {
        INDArray w = store.param(Architecture.HEAD_WEIGHT);
        Nd4j.gemm(ws.dLogits, headInputRows(), store.grad(Architecture.HEAD_WEIGHT), true, false, 1.0, 1.0);
        store.grad(Architecture.HEAD_BIAS).assign(ws.dLogits.sum(0));
        INDArray dInput = ws.dHeadInput;
        Nd4j.gemm(ws.dLogits, w, dInput.reshape((long) ws.time * ws.batch, arch.headInputSize()), false, false,
                1.0, 0.0);
        TimeBuffer dTop = ws.dy[arch.layers() - 1];
        if (directions == 1) {
            dTop.all.assign(dInput.permute(0, 2, 1));
            return;
        }
        // cloze objective: the feature at t came from the left-to-right output at t−1 and right-to-left at t+1
        ws.dFeatures.all.assign(dInput.permute(0, 2, 1));
        dTop.all.assign(0);
        for (int t = 0; t < ws.time; t++) {
            if (t > 0) {
                dTop.rows(t - 1, 0, hidden).addi(ws.dFeatures.rows(t, 0, hidden));
            }
            if (t < ws.time - 1) {
                dTop.rows(t + 1, hidden, hidden).addi(ws.dFeatures.rows(t, hidden, hidden));
            }
        }
    }

    private void recurrenceBackward(int l, int d) {
        int ld = l * directions + d;
        INDArray wHh = store.param(Architecture.weightHh(l, d == 1));
        INDArray dWhh = store.grad(Architecture.weightHh(l, d == 1));
        TimeBuffer z = ws.gates[ld];
        TimeBuffer dz = ws.dGates[ld];
        TimeBuffer y = ws.y[l];
        TimeBuffer dy = ws.dy[l];
        int row0 = d * hidden;
        precomputeSlopes(ld, l, d);
        ws.dh.assign(0);
        if (ws.dc != null) {
            ws.dc.assign(0);
        }
        for (int step = ws.time - 1; step >= 0; step--) {
            int t = d == 0 ? step : ws.time - 1 - step;
            int prevT = d == 0 ? t - 1 : t + 1;
            INDArray hPrev = step == 0 ? ws.h0[ld] : y.rows(prevT, row0, hidden);
            INDArray dOut = ws.s1;
            dy.rows(t, row0, hidden).add(ws.dh, dOut);
            switch (arch.cell()) {
                case RNN -> {
                    INDArray dPre = dz.at(t);
                    dOut.mul(ws.slopes.rows(t, row0, hidden), dPre);
                    Nd4j.gemm(wHh, dPre, ws.dh, true, false, 1.0, 0.0);
                    Nd4j.gemm(dPre, hPrev, dWhh, false, true, 1.0, 1.0);
                }
                case LSTM -> {
                    lstmGateGradients(ld, z, dz, t, step == 0 ? ws.c0[ld] : ws.cells[ld].at(prevT), dOut);
                    Nd4j.gemm(wHh, dz.at(t), ws.dh, true, false, 1.0, 0.0);
                    Nd4j.gemm(dz.at(t), hPrev, dWhh, false, true, 1.0, 1.0);
                }
                case GRU -> gruStepBackward(ld, wHh, dWhh, z, dz, t, hPrev, dOut);
            }
        }
    }

    /**
     * Activation slopes that do not depend on the incoming gradient, computed for all steps in a few large ops
     * instead of several small ones per step (per-op overhead dominates at these sizes, platform-notes.md):
     * RNN: act'(pre) from the output (1 − h² or step(h)); LSTM and GRU: σ' = a(1 − a) over every gate row (the
     * tanh rows, g and n, are overwritten per step), and for the LSTM 1 − tanh²(c).
     */
    private void precomputeSlopes(int ld, int l, int d) {
        if (arch.cell() == CellType.RNN) {
            if (d == 0) {
                INDArray out = ws.y[l].all;
                if (arch.activation() == RnnActivation.RELU) {
                    Nd4j.exec(new Sign(out, ws.slopes.all));
                } else {
                    out.mul(out, ws.slopes.all);
                    Nd4j.exec(new OneMinus(ws.slopes.all, ws.slopes.all));
                }
            }
            return;
        }
        Nd4j.exec(new TimesOneMinus(ws.gates[ld].all, ws.slopes.all));
        if (arch.cell() == CellType.LSTM) {
            INDArray tanhC = ws.tanhCells[ld].all;
            tanhC.mul(tanhC, ws.cellSlopes.all);
            Nd4j.exec(new OneMinus(ws.cellSlopes.all, ws.cellSlopes.all));
        }
    }

    /** Gradients w.r.t. the LSTM gate pre-activations at step t; updates the cell-state carry {@code ws.dc}. */
    private void lstmGateGradients(int ld, TimeBuffer z, TimeBuffer dz, int t, INDArray cPrev, INDArray dOut) {
        INDArray i = z.rows(t, 0, hidden);
        INDArray f = z.rows(t, hidden, hidden);
        INDArray g = z.rows(t, 2 * hidden, hidden);
        INDArray o = z.rows(t, 3 * hidden, hidden);
        INDArray dI = dz.rows(t, 0, hidden);
        INDArray dF = dz.rows(t, hidden, hidden);
        INDArray dG = dz.rows(t, 2 * hidden, hidden);
        INDArray dO = dz.rows(t, 3 * hidden, hidden);

        // gradients w.r.t. the gate activations; their slopes are applied to all four blocks at once below
        dOut.mul(ws.tanhCells[ld].at(t), dO);
        // dc = dc_carry + dh ⊙ o ⊙ (1 − tanh²c)
        INDArray dc = dOut.muli(o).muli(ws.cellSlopes.at(t)).addi(ws.dc);
        dc.mul(g, dI);
        dc.mul(cPrev, dF);
        dc.mul(i, dG);
        dc.mul(f, ws.dc);
        INDArray gSlope = ws.slopes.rows(t, 2 * hidden, hidden);
        g.mul(g, gSlope);
        Nd4j.exec(new OneMinus(gSlope, gSlope));
        dz.at(t).muli(ws.slopes.at(t));
    }

    private void gruStepBackward(int ld, INDArray wHh, INDArray dWhh, TimeBuffer z, TimeBuffer dz, int t,
                                 INDArray hPrev, INDArray dOut) {
        INDArray r = z.rows(t, 0, hidden);
        INDArray u = z.rows(t, hidden, hidden);
        INDArray n = z.rows(t, 2 * hidden, hidden);
        INDArray dR = dz.rows(t, 0, hidden);
        INDArray dU = dz.rows(t, hidden, hidden);
        INDArray dN = dz.rows(t, 2 * hidden, hidden);
        TimeBuffer dzh = ws.dRecurrent[ld];
        INDArray dRecurrentN = dzh.rows(t, 2 * hidden, hidden);
        INDArray s2 = ws.s2;
        INDArray s3 = ws.s3;

        // h' = n + z ⊙ (h − n): dz = dh' ⊙ (h − n), dh_direct = dh' ⊙ z, dn = dh' − dh_direct
        hPrev.sub(n, s2);
        dOut.mul(s2, dU);
        dOut.mul(u, ws.dh);
        dOut.sub(ws.dh, dN);
        n.mul(n, s3);
        dN.muli(Nd4j.exec(new OneMinus(s3, s3)));
        INDArray recurrentN = ws.candidateRecurrent[ld].at(t);
        INDArray wResetUpdate = rows(wHh, 0, 2 * hidden);
        INDArray wCandidate = rows(wHh, 2 * hidden, 3 * hidden);
        if (arch.linearBeforeReset()) {
            dN.mul(r, dRecurrentN);
            dN.mul(recurrentN, dR);
        } else {
            dRecurrentN.assign(dN);
            Nd4j.gemm(wCandidate, dRecurrentN, s2, true, false, 1.0, 0.0);
            s2.mul(hPrev, dR);
            ws.dh.addi(s2.muli(r));
        }
        INDArray dResetUpdate = dzh.rows(t, 0, 2 * hidden);
        dz.rows(t, 0, 2 * hidden).muli(ws.slopes.rows(t, 0, 2 * hidden));
        dResetUpdate.assign(dz.rows(t, 0, 2 * hidden));
        if (arch.linearBeforeReset()) {
            Nd4j.gemm(wHh, dzh.at(t), ws.dh, true, false, 1.0, 1.0);
            Nd4j.gemm(dzh.at(t), hPrev, dWhh, false, true, 1.0, 1.0);
        } else {
            Nd4j.gemm(wResetUpdate, dResetUpdate, ws.dh, true, false, 1.0, 1.0);
            Nd4j.gemm(dResetUpdate, hPrev, rows(dWhh, 0, 2 * hidden), false, true, 1.0, 1.0);
            Nd4j.gemm(dRecurrentN, ws.resetHidden[ld].at(t), rows(dWhh, 2 * hidden, 3 * hidden), false,
                    true, 1.0, 1.0);
        }
    }

    private void inputBackward(int l, int d) {
        boolean reverse = d == 1;
        int ld = l * directions + d;
        INDArray wIh = store.param(Architecture.weightIh(l, reverse));
        INDArray dWih = store.grad(Architecture.weightIh(l, reverse));
        TimeBuffer dz = ws.dGates[ld];
        // back to time·batch rows, so that both products below are single large GEMMs
        ws.natural.assign(dz.all.permute(0, 2, 1));
        INDArray dProjected = ws.natural.reshape((long) ws.time * ws.batch, gateRows);
        if (l == 0 && arch.embedDim() == 0) {
            scatterOneHotGradient(dProjected, dWih);
        } else {
            Nd4j.gemm(dProjected, layerInput(l), dWih, true, false, 1.0, 1.0);
            if (l == 0) {
                Nd4j.gemm(dProjected, wIh, ws.dx0.all.reshape((long) ws.time * ws.batch, arch.embedDim()), false,
                        false, 1.0, 1.0);
            } else {
                INDArray dInput = ws.dLayerInput;
                Nd4j.gemm(dProjected, wIh, dInput.reshape((long) ws.time * ws.batch, directions * hidden), false,
                        false, 1.0, 0.0);
                ws.dy[l - 1].all.addi(dInput.permute(0, 2, 1));
            }
        }
        store.grad(Architecture.biasIh(l, reverse)).assign(sumOverTimeAndBatch(dz));
        TimeBuffer dRecurrent = arch.cell() == CellType.GRU ? ws.dRecurrent[ld] : dz;
        store.grad(Architecture.biasHh(l, reverse)).assign(sumOverTimeAndBatch(dRecurrent));
    }

    /** One-hot input: W_ih's column for symbol x receives the gate gradients of every position reading x. */
    private void scatterOneHotGradient(INDArray dProjected, INDArray dWih) {
        double[] dColumns = flat(dProjected);
        double[] acc = new double[vocab * gateRows];
        for (int row = 0; row < ids.length; row++) {
            int src = row * gateRows;
            for (int j = 0; j < gateRows; j++) {
                acc[j * vocab + ids[row]] += dColumns[src + j];
            }
        }
        dWih.assign(Nd4j.createFromArray(acc).castTo(dtype).reshape(gateRows, vocab));
    }

    private void scatterEmbeddingGradient() {
        int embed = arch.embedDim();
        double[] dRows = flat(ws.dx0.all);
        double[] acc = new double[vocab * embed];
        for (int row = 0; row < ids.length; row++) {
            for (int j = 0; j < embed; j++) {
                acc[ids[row] * embed + j] += dRows[row * embed + j];
            }
        }
        store.grad(Architecture.EMBEDDING).assign(Nd4j.createFromArray(acc).castTo(dtype).reshape(vocab, embed));
    }

    /** The input of layer l with one row per (time, batch) position: {@code [time·batch, features]}. */
    private INDArray layerInput(int l) {
        long rows = (long) ws.time * ws.batch;
        return l == 0 ? ws.x0.all.reshape(rows, arch.embedDim()) : ws.layerInput[l].reshape(rows, directions * hidden);
    }

    /**
     * Sums {@code [time, rows, cols]} over time and columns as two matrix-vector products; ND4J's reductions over
     * several dimensions of a large array were several times slower.
     */
    private INDArray sumOverTimeAndBatch(TimeBuffer buffer) {
        INDArray overTime = Nd4j.gemm(ws.onesOverTime, buffer.all.reshape(buffer.time, (long) buffer.rows * buffer.cols),
                false, false);
        return Nd4j.gemm(overTime.reshape(buffer.rows, buffer.cols), ws.onesOverBatch, false, false)
                .reshape(buffer.rows);
    }

    private static double[] flat(INDArray contiguous) {
        return contiguous.reshape(contiguous.length()).toDoubleVector();
    }

    /** Buffers for one (batch, time) shape, reused across calls of that shape. */
    private static final class Workspace {
        final int batch;
        final int time;
        final TimeBuffer x0;
        final TimeBuffer dx0;
        final TimeBuffer[] gates;
        final TimeBuffer[] dGates;
        final TimeBuffer[] cells;
        final TimeBuffer[] tanhCells;
        final TimeBuffer[] candidateRecurrent;
        final TimeBuffer[] dRecurrent;
        final TimeBuffer[] resetHidden;
        final TimeBuffer[] y;
        final TimeBuffer[] dy;
        final TimeBuffer slopes;
        final INDArray natural;
        final INDArray[] layerInput;
        final INDArray dLayerInput;
        final TimeBuffer cellSlopes;
        final TimeBuffer features;
        final TimeBuffer dFeatures;
        final INDArray headInput;
        final INDArray dHeadInput;
        final INDArray logits;
        final INDArray dLogits;
        final INDArray[] h0;
        final INDArray[] c0;
        final INDArray s1;
        final INDArray s2;
        final INDArray s3;
        final INDArray dh;
        final INDArray dc;
        final INDArray onesOverTime;
        final INDArray onesOverBatch;

        boolean fits(int batch, int time) {
            return this.batch == batch && this.time == time;
        }

        Workspace(Architecture arch, DataType dtype, int batch, int time) {
            this.batch = batch;
            this.time = time;
            int h = arch.hiddenSize();
            int dirs = arch.directions();
            int gateRows = arch.cell().gates() * h;
            int n = arch.layers() * dirs;
            boolean lstm = arch.cell() == CellType.LSTM;
            boolean gru = arch.cell() == CellType.GRU;
            x0 = arch.embedDim() > 0 ? new TimeBuffer(dtype, time, batch, arch.embedDim()) : null;
            dx0 = arch.embedDim() > 0 ? new TimeBuffer(dtype, time, batch, arch.embedDim()) : null;
            gates = new TimeBuffer[n];
            dGates = new TimeBuffer[n];
            cells = lstm ? new TimeBuffer[n] : null;
            tanhCells = lstm ? new TimeBuffer[n] : null;
            candidateRecurrent = gru ? new TimeBuffer[n] : null;
            dRecurrent = gru ? new TimeBuffer[n] : null;
            resetHidden = gru && !arch.linearBeforeReset() ? new TimeBuffer[n] : null;
            h0 = new INDArray[n];
            c0 = lstm ? new INDArray[n] : null;
            for (int i = 0; i < n; i++) {
                gates[i] = new TimeBuffer(dtype, time, gateRows, batch);
                dGates[i] = new TimeBuffer(dtype, time, gateRows, batch);
                h0[i] = Nd4j.create(dtype, h, batch);
                if (lstm) {
                    cells[i] = new TimeBuffer(dtype, time, h, batch);
                    tanhCells[i] = new TimeBuffer(dtype, time, h, batch);
                    c0[i] = Nd4j.create(dtype, h, batch);
                }
                if (gru) {
                    candidateRecurrent[i] = new TimeBuffer(dtype, time, h, batch);
                    dRecurrent[i] = new TimeBuffer(dtype, time, gateRows, batch);
                    if (resetHidden != null) {
                        resetHidden[i] = new TimeBuffer(dtype, time, h, batch);
                    }
                }
            }
            y = new TimeBuffer[arch.layers()];
            dy = new TimeBuffer[arch.layers()];
            for (int l = 0; l < arch.layers(); l++) {
                y[l] = new TimeBuffer(dtype, time, dirs * h, batch);
                dy[l] = new TimeBuffer(dtype, time, dirs * h, batch);
            }
            natural = Nd4j.create(dtype, time, batch, gateRows);
            layerInput = new INDArray[arch.layers()];
            for (int l = 1; l < arch.layers(); l++) {
                layerInput[l] = Nd4j.create(dtype, time, batch, dirs * h);
            }
            dLayerInput = arch.layers() > 1 ? Nd4j.create(dtype, time, batch, dirs * h) : null;
            // shared by all layers and directions: each backward pass fills and consumes it in turn
            slopes = new TimeBuffer(dtype, time, arch.cell() == CellType.RNN ? dirs * h : gateRows, batch);
            cellSlopes = lstm ? new TimeBuffer(dtype, time, h, batch) : null;
            features = dirs == 2 ? new TimeBuffer(dtype, time, 2 * h, batch) : null;
            dFeatures = dirs == 2 ? new TimeBuffer(dtype, time, 2 * h, batch) : null;
            headInput = Nd4j.create(dtype, time, batch, arch.headInputSize());
            dHeadInput = Nd4j.create(dtype, time, batch, arch.headInputSize());
            logits = Nd4j.create(dtype, (long) time * batch, arch.vocabSize());
            dLogits = Nd4j.create(dtype, (long) time * batch, arch.vocabSize());
            s1 = Nd4j.create(dtype, h, batch);
            s2 = Nd4j.create(dtype, h, batch);
            s3 = Nd4j.create(dtype, h, batch);
            dh = Nd4j.create(dtype, h, batch);
            dc = lstm ? Nd4j.create(dtype, h, batch) : null;
            onesOverTime = Nd4j.ones(dtype, 1, time);
            onesOverBatch = Nd4j.ones(dtype, batch, 1);
        }
    }
}
