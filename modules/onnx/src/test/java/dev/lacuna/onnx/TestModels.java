package dev.lacuna.onnx;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.util.SplittableRandom;

/** Small models for export tests and Lacuna's own forward pass as the reference. */
final class TestModels {
    private TestModels() {
    }

    static Architecture arch(CellType cell, int vocab, int embed, int hidden, int layers, boolean bidirectional,
                             RnnActivation activation, boolean linearBeforeReset) {
        return new Architecture(cell, vocab, embed, hidden, layers, bidirectional, activation, linearBeforeReset);
    }

    static Vocabulary vocabulary(int size) {
        int[] symbols = new int[size];
        for (int i = 0; i < size; i++) {
            symbols[i] = 'a' + i;
        }
        return new Vocabulary(symbols);
    }

    /** A model with PyTorch-like initial weights; biases scaled up so that they matter in the outputs. */
    static Model model(Architecture arch, long seed) {
        Model m = Model.initialize(arch, vocabulary(arch.vocabSize()), seed);
        m.metadata().put("lacuna.method", "test");
        return m;
    }

    /**
     * Prunes every prunable tensor, the embedding included, to about {@code sparsity} with random masks (a
     * magnitude criterion would do no differently for the export, which only sees the zeros and masks).
     */
    static Model pruned(Model dense, double sparsity, long seed) {
        Model m = dense.copy();
        SplittableRandom random = new SplittableRandom(seed);
        for (TensorSpec spec : m.prunable(true)) {
            boolean[] keep = new boolean[(int) spec.elementCount()];
            for (int i = 0; i < keep.length; i++) {
                keep[i] = random.nextDouble() >= sparsity;
            }
            m.setMask(spec.name(), keep);
        }
        m.applyMasks();
        return m;
    }

    /** Random token ids, time-major as the ONNX input: {@code ids[t * batch + b]}. */
    static long[] tokens(int time, int batch, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] ids = new long[time * batch];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return ids;
    }

    /** Lacuna's forward pass: logits [time, batch, vocab] and left-to-right final states. */
    record Reference(NdArray logits, float[][][] hidden, float[][][] cell) {
    }

    static Reference forward(Model model, long[] tokens, int time, int batch) {
        Architecture arch = model.architecture();
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(model));
        int[][] inputs = new int[batch][time];
        int[][] targets = new int[batch][time];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                inputs[b][t] = (int) tokens[t * batch + b];
                targets[b][t] = -1;
            }
        }
        RnnState state = net.zeroState(batch);
        net.forward(inputs, targets, state, false);
        float[][][] logits = net.logits();
        int v = arch.vocabSize();
        float[] flat = new float[time * batch * v];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                System.arraycopy(logits[b][t], 0, flat, (t * batch + b) * v, v);
            }
        }
        float[][][] hidden = new float[arch.layers()][][];
        float[][][] cell = arch.cell() == CellType.LSTM ? new float[arch.layers()][][] : null;
        for (int l = 0; l < arch.layers(); l++) {
            hidden[l] = state.hidden(l, 0);
            if (cell != null) {
                cell[l] = state.cell(l, 0);
            }
        }
        return new Reference(NdArray.ofFloats(new long[] {time, batch, v}, flat), hidden, cell);
    }
}
