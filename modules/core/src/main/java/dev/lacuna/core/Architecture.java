package dev.lacuna.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Shape of a character-level recurrent model: an embedding (or one-hot input when {@code embedDim == 0}), a stack
 * of identical recurrent layers, each optionally bidirectional, and a linear head over the vocabulary.
 *
 * <p>Objective: a unidirectional model predicts the next character from the top layer's output at each position.
 * A bidirectional model cannot (its right-to-left half has already read that character), so it is a cloze model:
 * the head at position t reads the top layer's left-to-right output at t−1 and right-to-left output at t+1 (zeros
 * past either edge) and predicts the character at t. With more than one bidirectional layer the lower layers
 * would carry the character into both halves, so the character-model trainer accepts bidirectional stacks of one
 * layer only; the network itself supports any depth.
 *
 * <p>Tensor names follow PyTorch's {@code state_dict} ({@code rnn.weight_ih_l0}, {@code rnn.weight_hh_l1_reverse},
 * ...) so that checkpoints written by PyTorch map onto a {@link Model} by name.
 *
 * @param cell              recurrent cell kind
 * @param vocabSize         number of symbols (input classes and output classes)
 * @param embedDim          embedding width, or 0 for one-hot input
 * @param hiddenSize        hidden units per direction per layer
 * @param layers            number of stacked recurrent layers
 * @param bidirectional     whether every layer also runs right-to-left (outputs concatenated)
 * @param activation        nonlinearity of an RNN cell (ignored for GRU and LSTM)
 * @param linearBeforeReset GRU only: apply the reset gate after the recurrent product (PyTorch, cuDNN and ONNX
 *                          {@code linear_before_reset=1}) instead of before it (ONNX default 0)
 */
public record Architecture(CellType cell, int vocabSize, int embedDim, int hiddenSize, int layers,
                           boolean bidirectional, RnnActivation activation, boolean linearBeforeReset) {

    public static final String EMBEDDING = "embedding.weight";
    public static final String HEAD_WEIGHT = "head.weight";
    public static final String HEAD_BIAS = "head.bias";

    public Architecture {
        if (cell == null) {
            throw new InvalidOptionException("--cell", "must be given");
        }
        if (activation == null) {
            activation = RnnActivation.TANH;
        }
        if (vocabSize < 1) {
            throw new InvalidOptionException("vocabulary", "must hold at least one symbol, found " + vocabSize);
        }
        if (embedDim < 0) {
            throw new InvalidOptionException("--embed", "must be 0 (one-hot) or positive, found " + embedDim);
        }
        if (hiddenSize < 1) {
            throw new InvalidOptionException("--hidden", "must be positive, found " + hiddenSize);
        }
        if (layers < 1) {
            throw new InvalidOptionException("--layers", "must be positive, found " + layers);
        }
    }

    /** A unidirectional architecture with the defaults PyTorch uses (tanh RNN, GRU with linear_before_reset). */
    public static Architecture of(CellType cell, int vocabSize, int embedDim, int hiddenSize, int layers) {
        return new Architecture(cell, vocabSize, embedDim, hiddenSize, layers, false, RnnActivation.TANH, true);
    }

    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** Width of the input to layer {@code layer}: the embedding (or vocabulary) for layer 0, else the layer below. */
    public int inputSize(int layer) {
        if (layer == 0) {
            return embedDim > 0 ? embedDim : vocabSize;
        }
        return hiddenSize * directions();
    }

    /** Width of the features the head reads. */
    public int headInputSize() {
        return hiddenSize * directions();
    }

    public static String suffix(int layer, boolean reverse) {
        return "_l" + layer + (reverse ? "_reverse" : "");
    }

    public static String weightIh(int layer, boolean reverse) {
        return "rnn.weight_ih" + suffix(layer, reverse);
    }

    public static String weightHh(int layer, boolean reverse) {
        return "rnn.weight_hh" + suffix(layer, reverse);
    }

    public static String biasIh(int layer, boolean reverse) {
        return "rnn.bias_ih" + suffix(layer, reverse);
    }

    public static String biasHh(int layer, boolean reverse) {
        return "rnn.bias_hh" + suffix(layer, reverse);
    }

    /** Every tensor this architecture owns, in a stable order, with its shape and role. */
    public List<TensorSpec> tensors() {
        List<TensorSpec> specs = new ArrayList<>();
        int g = cell.gates() * hiddenSize;
        if (embedDim > 0) {
            specs.add(new TensorSpec(EMBEDDING, new int[] {vocabSize, embedDim}, TensorRole.EMBEDDING, -1));
        }
        for (int l = 0; l < layers; l++) {
            for (int d = 0; d < directions(); d++) {
                boolean rev = d == 1;
                specs.add(new TensorSpec(weightIh(l, rev), new int[] {g, inputSize(l)}, TensorRole.INPUT_WEIGHT, l));
                specs.add(new TensorSpec(weightHh(l, rev), new int[] {g, hiddenSize}, TensorRole.RECURRENT_WEIGHT, l));
                specs.add(new TensorSpec(biasIh(l, rev), new int[] {g}, TensorRole.BIAS, l));
                specs.add(new TensorSpec(biasHh(l, rev), new int[] {g}, TensorRole.BIAS, l));
            }
        }
        specs.add(new TensorSpec(HEAD_WEIGHT, new int[] {vocabSize, headInputSize()}, TensorRole.HEAD_WEIGHT, -1));
        specs.add(new TensorSpec(HEAD_BIAS, new int[] {vocabSize}, TensorRole.BIAS, -1));
        return specs;
    }

    /** Total number of parameters (weights and biases). */
    public long parameterCount() {
        long n = 0;
        for (TensorSpec s : tensors()) {
            n += s.elementCount();
        }
        return n;
    }
}
