package dev.lacuna.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorRole;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CentroidFineTunerTest {
    @TempDir
    static Path dir;

    private static CharCorpus corpus;
    private static Model trained;

    @BeforeAll
    static void trainAModel() throws IOException {
        corpus = CharCorpus.load(TestTexts.write(dir, "sentences.txt", TestTexts.sentences(6000, 42)), null);
        Architecture arch = new Architecture(CellType.LSTM, corpus.vocabulary().size(), 8, 24, 1, false,
                RnnActivation.TANH, true);
        trained = Model.initialize(arch, corpus.vocabulary(), 3);
        new Trainer(trained, corpus, config(150, 1e-2), null, null).run();
    }

    private static TrainConfig config(long steps, double lr) {
        return TrainConfig.builder().batch(8).seq(24).lr(lr).seed(5).steps(steps).build();
    }

    /**
     * A crude shared-weight model: every other kept weight pruned, the rest of each gate block rounded to one of
     * four levels (the grid, not k-means: the fine-tuner must not care how values came to be shared).
     */
    private static Model quantized() {
        Model model = trained.copy();
        for (TensorSpec spec : model.prunable(false)) {
            float[] w = model.tensor(spec.name()).data();
            boolean[] keep = new boolean[w.length];
            int blocks = spec.role() == TensorRole.HEAD_WEIGHT ? 1 : model.architecture().cell().gates();
            int size = w.length / blocks;
            for (int b = 0; b < blocks; b++) {
                float max = 0;
                for (int i = b * size; i < (b + 1) * size; i++) {
                    max = Math.max(max, Math.abs(w[i]));
                }
                for (int i = b * size; i < (b + 1) * size; i++) {
                    keep[i] = i % 2 == 0;
                    float level = Math.max(1, Math.min(2, Math.round(Math.abs(w[i]) / max * 2))) * max / 2;
                    w[i] = keep[i] ? Math.copySign(level, w[i]) : 0f;
                }
            }
            model.setMask(spec.name(), keep);
        }
        return model;
    }

    @Test
    void fineTuningKeepsAssignmentsAndMasksAndLowersTheLoss() {
        Model before = quantized();
        Model model = before.copy();
        CentroidFineTuner.Result result = new CentroidFineTuner(model, corpus, config(60, 3e-3), true).run();

        assertTrue(result.bpcAfter() < result.bpcBefore(), result.bpcBefore() + " -> " + result.bpcAfter());
        for (TensorSpec spec : model.prunable(false)) {
            float[] old = before.tensor(spec.name()).data();
            float[] now = model.tensor(spec.name()).data();
            boolean[] keep = before.mask(spec.name());
            Map<Float, Float> moved = new HashMap<>();
            int blocks = spec.role() == TensorRole.HEAD_WEIGHT ? 1 : 4;
            int size = old.length / blocks;
            for (int i = 0; i < old.length; i++) {
                if (!keep[i]) {
                    assertEquals(0f, now[i], "pruned weights stay zero");
                    continue;
                }
                // Same old value in the same block => same new value: the assignment did not change.
                float key = old[i] + (i / size) * 1000f;
                Float previous = moved.putIfAbsent(key, now[i]);
                assertTrue(previous == null || previous == now[i], spec.name() + " element " + i);
            }
            assertTrue(moved.size() <= 4 * blocks, spec.name() + ": " + moved.size() + " shared values");
        }
    }

    @Test
    void aCentroidMovesAgainstTheSumOfItsWeightsGradients() {
        Model quantized = quantized();
        // The first Adam step moves every centroid by lr against the sign of its gradient; with the gradient
        // taken as the sum over the centroid's weights, the direction is known from one backward pass.
        ParameterStore store = new ParameterStore(quantized);
        store.applyMask();
        CharRnnNetwork network = new CharRnnNetwork(quantized.architecture(), store);
        CharBatches batches = new CharBatches(corpus.train(), 8, 24, false, 5);
        CharBatches.Batch batch = batches.next();
        network.forward(batch.inputs(), batch.targets(), network.zeroState(8), true);
        network.backward(1.0 / network.countedTargets());
        float[] grads = store.grads().toFloatVector();

        String name = Architecture.weightHh(0, false);
        long offset = 0;
        for (TensorSpec spec : quantized.architecture().tensors()) {
            if (spec.name().equals(name)) {
                break;
            }
            offset += spec.elementCount();
        }
        float[] w = quantized.tensor(name).data();
        int size = w.length / 4;
        Map<Float, Double> sums = new HashMap<>();
        for (int i = 0; i < size; i++) { // the first gate block
            if (w[i] != 0f) {
                sums.merge(w[i], (double) grads[(int) offset + i], Double::sum);
            }
        }
        Model tuned = quantized.copy();
        double lr = 1e-3;
        new CentroidFineTuner(tuned, corpus, config(1, lr), true).run();
        float[] after = tuned.tensor(name).data();
        int checked = 0;
        for (int i = 0; i < size; i++) {
            if (w[i] != 0f && Math.abs(sums.get(w[i])) > 1e-6) {
                double expected = w[i] - lr * Math.signum(sums.get(w[i]));
                assertEquals(expected, after[i], 1e-6, "element " + i);
                checked++;
            }
        }
        assertTrue(checked > 10, "checked " + checked);
    }
}
