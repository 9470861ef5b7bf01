package dev.lacuna.runtime;

import dev.lacuna.core.Architecture;

/** Scratch buffers for windows of up to {@code capacity} positions, all in the interleaved batch layout. */
final class Workspace {
    final float[] embedded;
    final float[] projections;
    final float[][] layerOutputs;
    final float[] features;
    final float[] logits;
    final float[] gates;
    /** Scratch of {@link dev.lacuna.core.Activations}, as long as {@link #gates}. */
    final float[] activationWork;
    final float[] candidate;
    /** LSTM: tanh of the new cell state. */
    final float[] cellTanh;
    final float[] resetHidden;
    final float[] h;
    /** {@code [x; h]} of a fused layer ({@link FusedSparseMatrix}). */
    final float[] inputAndHidden;
    final float[] c;
    /** The step API's single input id, so a step allocates nothing. */
    final int[] token = new int[1];

    Workspace(Architecture arch, int capacity) {
        int hidden = arch.hiddenSize();
        int gateRows = arch.cell().gates() * hidden;
        embedded = arch.embedDim() > 0 ? new float[arch.embedDim() * capacity] : null;
        projections = new float[gateRows * capacity];
        layerOutputs = new float[Math.min(2, arch.layers())][arch.directions() * hidden * capacity];
        features = arch.bidirectional() ? new float[arch.headInputSize() * capacity] : null;
        logits = new float[arch.vocabSize() * capacity];
        gates = new float[gateRows];
        activationWork = new float[gateRows];
        candidate = new float[hidden];
        cellTanh = new float[hidden];
        resetHidden = new float[hidden];
        h = new float[hidden];
        int widestInput = 0;
        for (int l = 0; l < arch.layers(); l++) {
            widestInput = Math.max(widestInput, arch.inputSize(l));
        }
        inputAndHidden = new float[widestInput + hidden];
        c = new float[hidden];
    }
}
