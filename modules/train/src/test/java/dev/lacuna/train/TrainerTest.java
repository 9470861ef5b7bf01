package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir
    static Path dir;

    private static CharCorpus corpus;

    @BeforeAll
    static void writeCorpus() throws IOException {
        corpus = CharCorpus.load(TestTexts.write(dir, "sentences.txt", TestTexts.sentences(6000, 42)), null);
    }

    private static Model model(CellType cell, boolean bidirectional, int hidden) {
        Architecture arch = new Architecture(cell, corpus.vocabulary().size(), 8, hidden, 1, bidirectional,
                RnnActivation.TANH, true);
        return Model.initialize(arch, corpus.vocabulary(), 3);
    }

    private static TrainConfig.Builder small() {
        return TrainConfig.builder().batch(8).seq(24).lr(1e-2).seed(5);
    }

    @ParameterizedTest
    @CsvSource({"RNN, false", "GRU, false", "LSTM, false", "LSTM, true"})
    void trainingLowersHeldOutBitsPerCharacter(CellType cell, boolean bidirectional) {
        Model model = model(cell, bidirectional, 32);
        double before = Evaluator.bpc(model, corpus.validation(), 8, 24);
        TrainResult result = new Trainer(model, corpus, small().steps(150).build(), null, null).run();

        assertEquals(150, result.steps());
        assertEquals(150, result.history().size());
        assertTrue(result.bpcVal() < 0.4 * before, "held-out bpc " + before + " -> " + result.bpcVal());
        assertEquals(result.bpcVal(), Evaluator.bpc(model, corpus.validation()), 1e-4,
                "the returned model must be the trained one");
        assertTrue(result.trainSeconds() > 0 && result.stepsPerSecond() > 0);
        assertTrue(result.medianStepMillis() > 0 && result.medianStepMillis() <= 1e3 * result.trainSeconds());
        assertEquals(0.0, result.history().get(149).sparsity());
    }

    @Test
    void sgdWithMomentumAndDecayAlsoLearns() {
        Model model = model(CellType.RNN, false, 16);
        double before = Evaluator.bpc(model, corpus.validation(), 8, 24);
        TrainConfig config = small().optimizer(OptimizerKind.SGD).lr(0.5).momentum(0.9).clip(1.0).lrDecay(0.5)
                .lrDecayEvery(40).steps(100).build();
        TrainResult result = new Trainer(model, corpus, config, null, null).run();
        assertTrue(result.bpcVal() < 0.5 * before, "held-out bpc " + before + " -> " + result.bpcVal());
    }

    /**
     * A regrowth policy for tests: at each of its refresh steps it keeps the weights whose magnitude exceeds a
     * threshold that grows with the step, and records what it saw.
     */
    private static final class RecordingPolicy implements PruningPolicy {
        final Set<Long> refreshSteps;
        final List<Long> refreshed = new ArrayList<>();
        /** At each refresh, how many previously pruned weights were non-zero in the model it was given. */
        final List<Long> revivedSeen = new ArrayList<>();

        RecordingPolicy(Set<Long> refreshSteps) {
            this.refreshSteps = refreshSteps;
        }

        @Override
        public String method() {
            return "test";
        }

        @Override
        public boolean refreshesAt(long step) {
            return refreshSteps.contains(step);
        }

        @Override
        public void refresh(long step, Model model) {
            refreshed.add(step);
            long revived = 0;
            double threshold = 0.02 * (refreshed.size());
            for (TensorSpec spec : model.prunable(false)) {
                float[] w = model.tensor(spec.name()).data();
                boolean[] old = model.mask(spec.name());
                boolean[] keep = new boolean[w.length];
                for (int i = 0; i < w.length; i++) {
                    if (old != null && !old[i] && w[i] != 0f) {
                        revived++;
                    }
                    keep[i] = Math.abs(w[i]) > threshold;
                }
                model.setMask(spec.name(), keep);
            }
            revivedSeen.add(revived);
        }

        @Override
        public Map<String, Object> hyperparameters() {
            return Map.of();
        }
    }

    @Test
    void pruningRefreshesExactlyWhenAskedAndMaskedWeightsEndAtZero() {
        Model model = model(CellType.GRU, false, 16);
        RecordingPolicy policy = new RecordingPolicy(Set.of(0L, 3L, 7L, 30L));
        List<Double> sparsities = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                sparsities.add(sparsity);
            }
        };
        TrainResult result = new Trainer(model, corpus, small().steps(12).build(), policy, listener).run();

        assertEquals(List.of(0L, 3L, 7L), policy.refreshed);
        // The policy sees weights as the optimizer left them: Adam moved pruned weights off zero before re-masking.
        assertEquals(0L, policy.revivedSeen.get(0));
        assertTrue(policy.revivedSeen.get(1) > 0, "refresh at step 3 saw re-masked weights");

        long masked = 0;
        for (TensorSpec spec : model.prunable(false)) {
            boolean[] keep = model.mask(spec.name());
            float[] w = model.tensor(spec.name()).data();
            for (int i = 0; i < w.length; i++) {
                if (!keep[i]) {
                    masked++;
                    assertEquals(0f, w[i], spec.name() + "[" + i + "]");
                }
            }
        }
        assertTrue(masked > 0);
        double finalSparsity = Trainer.maskedFraction(model);
        assertEquals(finalSparsity, result.history().get(11).sparsity());
        assertEquals(sparsities.get(7), finalSparsity);
        assertTrue(sparsities.get(0) < sparsities.get(3) && sparsities.get(3) < sparsities.get(7));
        assertTrue(model.sparsity(false).sparsity() >= finalSparsity);
        assertTrue(result.pruningSeconds() > 0 && result.pruningSeconds() < result.trainSeconds());
    }

    @Test
    void masksAModelAlreadyCarriesStayInForceWithoutAPolicy() {
        Model model = model(CellType.RNN, false, 16);
        boolean[] keep = new boolean[model.tensor(Architecture.HEAD_WEIGHT).size()];
        for (int i = 0; i < keep.length; i += 2) {
            keep[i] = true;
        }
        model.setMask(Architecture.HEAD_WEIGHT, keep);
        new Trainer(model, corpus, small().steps(5).build(), null, null).run();
        float[] w = model.tensor(Architecture.HEAD_WEIGHT).data();
        for (int i = 1; i < w.length; i += 2) {
            assertEquals(0f, w[i]);
        }
        assertTrue(w[0] != 0f);
    }

    @Test
    void theSameSeedGivesBitIdenticalWeights() {
        Model first = model(CellType.LSTM, false, 16);
        Model second = first.copy();
        Model third = first.copy();
        TrainConfig config = small().steps(8).build();
        TrainResult a = new Trainer(first, corpus, config, new RecordingPolicy(Set.of(2L, 5L)), null).run();
        TrainResult b = new Trainer(second, corpus, config, new RecordingPolicy(Set.of(2L, 5L)), null).run();
        new Trainer(third, corpus, config.toBuilder().seed(6).build(), new RecordingPolicy(Set.of(2L, 5L)), null)
                .run();

        boolean differs = false;
        for (String name : first.tensors().keySet()) {
            assertArrayEquals(first.tensor(name).data(), second.tensor(name).data(), name);
            differs |= !java.util.Arrays.equals(first.tensor(name).data(), third.tensor(name).data());
        }
        assertTrue(differs, "another seed reads other stream offsets, so the weights differ");
        assertEquals(a.bpcVal(), b.bpcVal());
        for (int i = 0; i < a.history().size(); i++) {
            assertEquals(a.history().get(i).trainBpc(), b.history().get(i).trainBpc());
        }
    }

    @Test
    void evaluatesAtTheRequestedStepsAndAtTheEnd() {
        Model model = model(CellType.RNN, false, 16);
        List<Long> evaluated = new ArrayList<>();
        List<String> events = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStart(long totalSteps) {
                events.add("start " + totalSteps);
            }

            @Override
            public void onEvaluation(long step, double bpcVal) {
                evaluated.add(step);
            }

            @Override
            public void onFinish() {
                events.add("finish");
            }
        };
        TrainResult result = new Trainer(model, corpus, small().steps(12).evalEvery(5).build(), null, listener).run();
        assertEquals(List.of(5L, 10L, 12L), evaluated);
        assertEquals(List.of("start 12", "finish"), events);
        List<Long> pointsWithEvaluation = result.history().stream().filter(TrainResult.Point::evaluated)
                .map(TrainResult.Point::step).toList();
        assertEquals(List.of(4L, 9L, 11L), pointsWithEvaluation);
        assertEquals(result.bpcVal(), result.history().get(11).bpcVal());
    }

    @Test
    void anEpochCountSetsTheNumberOfSteps() {
        Model model = model(CellType.RNN, false, 8);
        int stepsPerEpoch = new CharBatches(corpus.train(), 32, 100, false, 0).stepsPerEpoch();
        TrainResult result = new Trainer(model, corpus, TrainConfig.builder().epochs(2).build(), null, null).run();
        assertEquals(2L * stepsPerEpoch, result.steps());
    }

    @Test
    void refusesADeepBidirectionalModel() {
        Architecture arch = new Architecture(CellType.GRU, corpus.vocabulary().size(), 8, 8, 2, true,
                RnnActivation.TANH, true);
        Model model = Model.initialize(arch, corpus.vocabulary(), 0);
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> new Trainer(model, corpus, small().build(), null, null));
        assertEquals("--bidirectional", e.option());
        assertTrue(e.getMessage().contains("leak"), e.getMessage());
    }

    @Test
    void refusesACorpusTooShortForOneBatch() {
        Model model = model(CellType.RNN, false, 8);
        BadFileException e = assertThrows(BadFileException.class,
                () -> new Trainer(model, corpus, small().batch(64).seq(100).build(), null, null));
        assertEquals(corpus.source(), e.file());
        assertTrue(e.getMessage().contains("--batch 64"), e.getMessage());
    }

    @Test
    void refusesACorpusEncodedWithAnotherVocabulary() throws IOException {
        CharCorpus other = CharCorpus.load(TestTexts.write(dir, "other.txt", "xyz ".repeat(400)), null);
        Model model = model(CellType.RNN, false, 8);
        BadFileException e = assertThrows(BadFileException.class,
                () -> new Trainer(model, other, small().build(), null, null));
        assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
        assertFalse(other.vocabulary().equals(model.vocabulary()));
        assertEquals(Vocabulary.fromString(" xyz"), other.vocabulary());
    }

    @Test
    void stopsWithAClearErrorWhenTrainingDiverges() {
        Model model = model(CellType.RNN, false, 8);
        for (Tensor t : model.tensors().values()) {
            java.util.Arrays.fill(t.data(), Float.NaN);
        }
        dev.lacuna.core.LacunaException e = assertThrows(dev.lacuna.core.LacunaException.class,
                () -> new Trainer(model, corpus, small().steps(3).build(), null, null).run());
        assertTrue(e.getMessage().contains("diverged at step 0"), e.getMessage());
    }
}
