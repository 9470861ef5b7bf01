package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The runtime computes what the trainer's ND4J network computes: logits within 1e-5 and bpc within 1e-4, for every
 * cell, stacked and bidirectional, embedding and one-hot, dense and 90% pruned, on every kernel choice.
 */
class ParityTest {
    static final String TEXT = "call me ishmael. some years ago, never mind how long precisely, having little or"
            + " no money in my purse, and nothing particular to interest me on shore, i thought i would sail about"
            + " a little and see the watery part of the world. it is a way i have of driving off the spleen.";
    static final Vocabulary VOCAB = Vocabulary.of(TEXT);

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<Architecture> archs = List.of(
                new Architecture(CellType.RNN, VOCAB.size(), 8, 12, 2, false, RnnActivation.TANH, true),
                new Architecture(CellType.RNN, VOCAB.size(), 0, 12, 1, true, RnnActivation.RELU, true),
                new Architecture(CellType.GRU, VOCAB.size(), 8, 12, 2, false, RnnActivation.TANH, true),
                new Architecture(CellType.GRU, VOCAB.size(), 8, 12, 2, false, RnnActivation.TANH, false),
                new Architecture(CellType.GRU, VOCAB.size(), 0, 10, 1, true, RnnActivation.TANH, false),
                new Architecture(CellType.GRU, VOCAB.size(), 6, 10, 2, true, RnnActivation.TANH, true),
                new Architecture(CellType.LSTM, VOCAB.size(), 8, 12, 2, false, RnnActivation.TANH, true),
                new Architecture(CellType.LSTM, VOCAB.size(), 0, 12, 3, false, RnnActivation.TANH, true),
                new Architecture(CellType.LSTM, VOCAB.size(), 8, 10, 1, true, RnnActivation.TANH, true));
        long seed = 1;
        for (Architecture a : archs) {
            // dense weights on both kernels, pruned weights on the sparse kernel and on the automatic choice
            out.add(Arguments.of(a, 0.0, KernelChoice.DENSE, seed++));
            out.add(Arguments.of(a, 0.0, KernelChoice.SPARSE, seed++));
            out.add(Arguments.of(a, 0.9, KernelChoice.SPARSE, seed++));
            out.add(Arguments.of(a, 0.9, KernelChoice.AUTO, seed++));
        }
        return out.stream();
    }

    /**
     * A randomly initialised model whose prunable matrices keep only their largest (1 − sparsity) weights by
     * magnitude. The masks are set but not applied, so the runtime must honour them itself.
     */
    static Model model(Architecture arch, double sparsity, long seed) {
        Model m = Model.initialize(arch, VOCAB, seed);
        if (sparsity > 0) {
            SplittableRandom random = new SplittableRandom(seed);
            for (TensorSpec spec : m.prunable(true)) {
                float[] w = m.tensor(spec.name()).data();
                boolean[] keep = new boolean[w.length];
                for (int i = 0; i < w.length; i++) {
                    keep[i] = random.nextDouble() >= sparsity;
                }
                m.setMask(spec.name(), keep);
            }
        }
        return m;
    }

    @ParameterizedTest(name = "{0} sparsity {1} {2}")
    @MethodSource("cases")
    void logitsAndBpcMatchTheTrainer(Architecture arch, double sparsity, KernelChoice choice, long seed) {
        Model m = model(arch, sparsity, seed);
        CompiledModel runtime = CompiledModel.of(m, choice);
        if (choice == KernelChoice.SPARSE && sparsity > 0) {
            assertTrue(runtime.sparseMatrices() > 0);
        }
        int[] ids = runtime.encode(TEXT.substring(0, 57));

        ParameterStore store = new ParameterStore(m);
        store.applyMask();
        CharRnnNetwork network = new CharRnnNetwork(arch, store);
        RnnState state = network.zeroState(1);
        int[][] targets = new int[1][ids.length];
        network.forward(new int[][] {ids}, targets, state, false);
        float[][] expected = network.logits()[0];

        float[][] actual = runtime.sequenceLogits(ids);
        for (int t = 0; t < ids.length; t++) {
            for (int v = 0; v < arch.vocabSize(); v++) {
                assertEquals(expected[t][v], actual[t][v], 1e-5, "position " + t + " symbol " + v);
            }
        }
        if (!arch.bidirectional()) {
            // the step API walks the same sequence one character at a time
            RecurrentState s = runtime.newState();
            float[] logits = new float[arch.vocabSize()];
            for (int t = 0; t < ids.length; t++) {
                runtime.step(s, ids[t], logits);
                for (int v = 0; v < arch.vocabSize(); v++) {
                    assertEquals(expected[t][v], logits[v], 1e-5, "step " + t + " symbol " + v);
                }
            }
        }
        int[] all = runtime.encode(TEXT);
        assertEquals(Evaluator.bpc(m, all, 1, CompiledModel.SCORE_WINDOW), runtime.score(TEXT), 1e-4);
    }
}
