package dev.lacuna.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorRole;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

    /** Stands for a killed process: the run stops in the middle without finishing. */
    private static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash");
        }
    }

    /** Throws at the end of {@code step}, after the checkpoint of an earlier step was written. */
    private static TrainingListener crashingAt(long step) {
        return new TrainingListener() {
            @Override
            public void onStep(long s, double trainBpc, double sparsity) {
                if (s == step) {
                    throw new Crash();
                }
            }
        };
    }

    @Test
    void anInterruptedRunResumesBitIdentical() throws IOException {
        // 36 steps cross the epoch boundary (28 steps per epoch) after the checkpoint of step 20, so the replayed
        // data position and the carried recurrent state both matter; the decay makes the step index matter.
        TrainConfig config = TrainConfig.builder().batch(8).seq(24).lr(3e-3).lrDecay(0.5).lrDecayEvery(15).seed(5)
                .steps(36).build();
        assertTrue(Trainer.stepsPerEpoch(corpus, config, false) < 36, "the run must cross an epoch");
        Model input = quantized();
        Model uninterrupted = input.copy();
        CentroidFineTuner.Result expected = new CentroidFineTuner(uninterrupted, corpus, config, true).run();

        Path file = dir.resolve("tune.resume");
        Files.deleteIfExists(file);
        CentroidFineTuner crashing = new CentroidFineTuner(input.copy(), corpus, config, true, crashingAt(27))
                .checkpointEvery(10, file);
        assertThrows(Crash.class, crashing::run);
        CentroidCheckpoint checkpoint = CentroidCheckpoint.read(file);
        assertEquals(20, checkpoint.completedSteps());

        long[] firstStep = {-1};
        TrainingListener watch = new TrainingListener() {
            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                if (firstStep[0] < 0) {
                    firstStep[0] = step;
                }
            }
        };
        Model resumed = input.copy();
        CentroidFineTuner.Result actual = new CentroidFineTuner(resumed, corpus, config, true, watch)
                .checkpointEvery(10, file).resumeFrom(checkpoint).run();

        assertEquals(20, firstStep[0], "the resumed run continues after the checkpoint's step");
        for (TensorSpec spec : input.architecture().tensors()) {
            assertArrayEquals(uninterrupted.tensor(spec.name()).data(), resumed.tensor(spec.name()).data(),
                    spec.name());
            assertArrayEquals(uninterrupted.mask(spec.name()), resumed.mask(spec.name()), spec.name());
        }
        assertEquals(Double.doubleToRawLongBits(expected.bpcAfter()), Double.doubleToRawLongBits(actual.bpcAfter()));
        assertEquals(expected.bpcBefore(), actual.bpcBefore());
        assertFalse(Arrays.equals(input.tensor(Architecture.weightHh(0, false)).data(),
                resumed.tensor(Architecture.weightHh(0, false)).data()), "the centroids moved");
    }

    @Test
    void refusesACheckpointOfAnotherRun() {
        TrainConfig config = config(30, 3e-3);
        Path file = dir.resolve("other.resume");
        assertThrows(Crash.class, new CentroidFineTuner(quantized(), corpus, config, true, crashingAt(12))
                .checkpointEvery(10, file)::run);
        CentroidCheckpoint checkpoint = CentroidCheckpoint.read(file);

        TrainConfig otherSeed = config.toBuilder().seed(6).build();
        InvalidOptionException seed = assertThrows(InvalidOptionException.class,
                new CentroidFineTuner(quantized(), corpus, otherSeed, true).resumeFrom(checkpoint)::run);
        assertEquals("--resume", seed.option());
        InvalidOptionException blocks = assertThrows(InvalidOptionException.class,
                new CentroidFineTuner(quantized(), corpus, config, false).resumeFrom(checkpoint)::run);
        assertEquals("--resume", blocks.option());
        Model otherValues = quantized();
        otherValues.tensor(Architecture.HEAD_BIAS).data()[0] += 1e-3f;
        assertThrows(InvalidOptionException.class,
                new CentroidFineTuner(otherValues, corpus, config, true).resumeFrom(checkpoint)::run);
    }

    @Test
    void aTrainingCheckpointIsNotACentroidCheckpoint() {
        Path file = dir.resolve("training.resume");
        TrainConfig config = config(30, 1e-3);
        assertThrows(Crash.class, new Trainer(trained.copy(), corpus, config, null, crashingAt(12))
                .checkpointEvery(10, file)::run);
        BadFileException e = assertThrows(BadFileException.class, () -> CentroidCheckpoint.read(file));
        assertTrue(e.getMessage().contains(CentroidCheckpoint.FORMAT), e.getMessage());
    }
}
