package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.AgpPruningPolicy;
import dev.lacuna.core.prune.AgpSchedule;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.OneShotPruningPolicy;
import dev.lacuna.io.SafetensorsDType;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resuming an interrupted run from a {@link TrainingCheckpoint} ends bit-identical to the uninterrupted run (issue #8
 * item 4). The interruption is a listener that throws in the middle of the run, after a checkpoint was written.
 */
class TrainingCheckpointTest {
    private static final long STEPS = 36;
    private static final long EVERY = 10;
    /** The interrupted run dies at this step, after the checkpoint of step 20 and before that of step 30. */
    private static final long CRASH_AT = 27;

    @TempDir
    Path dir;

    /** Stands for a killed process: the run stops in the middle without finishing. */
    private static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash");
        }
    }

    private static final TrainingListener CRASHING = new TrainingListener() {
        @Override
        public void onStep(long step, double trainBpc, double sparsity) {
            if (step == CRASH_AT) {
                throw new Crash();
            }
        }
    };

    private CharCorpus corpus() throws IOException {
        return CharCorpus.load(TestTexts.write(dir, "s.txt", TestTexts.sentences(1200, 5)), null);
    }

    private static Model model(CharCorpus corpus, CellType cell) {
        Architecture arch = new Architecture(cell, corpus.vocabulary().size(), 6, 12, 2, false, RnnActivation.TANH,
                true);
        return Model.initialize(arch, corpus.vocabulary(), 3);
    }

    @Test
    void resumedDenseTrainingIsBitIdenticalToAnUninterruptedRun() throws IOException {
        CharCorpus corpus = corpus();
        // Learning-rate decay and evaluations in between make sure step-dependent settings resume correctly too;
        // 36 steps span several epochs, so the seeded epoch offsets are replayed across the resume.
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).lr(5e-3).lrDecay(0.5)
                .lrDecayEvery(15).evalEvery(12).seed(7).build();
        assertTrue(Trainer.stepsPerEpoch(corpus, config, false) < CRASH_AT, "the run must cross epochs");
        assertInterruptedRunResumesBitIdentical(corpus, model(corpus, CellType.LSTM), config, m -> null);
    }

    @Test
    void resumedGradualPruningWithSgdIsBitIdenticalToAnUninterruptedRun() throws IOException {
        CharCorpus corpus = corpus();
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).optimizer(OptimizerKind.SGD)
                .lr(0.05).seed(2).build();
        long perEpoch = Trainer.stepsPerEpoch(corpus, config, false);
        Function<Model, PruningPolicy> gradual = m -> GradualPruningPolicy.builder(m, STEPS, perEpoch)
                .start(5L).ramp(15L).end(32L).freq(5L).targetSparsity(0.5).build();
        // A refresh right after the checkpoint: the checkpoint must carry the weights as the optimizer left them.
        assertTrue(gradual.apply(model(corpus, CellType.GRU)).refreshesAt(20));
        assertInterruptedRunResumesBitIdentical(corpus, model(corpus, CellType.GRU), config, gradual);
    }

    @Test
    void resumedAgpPruningIsBitIdenticalToAnUninterruptedRun() throws IOException {
        CharCorpus corpus = corpus();
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).lr(5e-3).seed(4).build();
        // Pruning steps 10, 15, ..., 30 straddle both the checkpoint (20) and the crash (27).
        Function<Model, PruningPolicy> agp = m -> new AgpPruningPolicy(m, AgpSchedule.fromRange(0, 0.7, 5, 32, 5),
                true, false);
        assertTrue(agp.apply(model(corpus, CellType.LSTM)).refreshesAt(20));
        assertInterruptedRunResumesBitIdentical(corpus, model(corpus, CellType.LSTM), config, agp);
    }

    @Test
    void resumedOneShotFineTuningIsBitIdenticalToAnUninterruptedRun() throws IOException {
        CharCorpus corpus = corpus();
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).lr(5e-3).seed(6).build();
        assertInterruptedRunResumesBitIdentical(corpus, model(corpus, CellType.RNN), config,
                m -> new OneShotPruningPolicy(m, 0.8, false, true, true));
    }

    private void assertInterruptedRunResumesBitIdentical(CharCorpus corpus, Model input, TrainConfig config,
                                                         Function<Model, PruningPolicy> policy) {
        Model uninterrupted = input.copy();
        TrainResult expected = new Trainer(uninterrupted, corpus, config, policy.apply(uninterrupted), null).run();

        Path file = dir.resolve("run.resume");
        Model crashed = input.copy();
        Trainer first = new Trainer(crashed, corpus, config, policy.apply(crashed), CRASHING)
                .checkpointEvery(EVERY, file);
        assertThrows(Crash.class, first::run);
        TrainingCheckpoint checkpoint = TrainingCheckpoint.read(file);
        assertEquals(20, checkpoint.completedSteps());

        Model resumed = input.copy();
        TrainResult actual = new Trainer(resumed, corpus, config, policy.apply(resumed), null)
                .checkpointEvery(EVERY, file).resumeFrom(checkpoint).run();

        assertModelsBitIdentical(uninterrupted, resumed);
        assertEquals(expected.steps(), actual.steps());
        assertEquals(Double.doubleToRawLongBits(expected.bpcVal()), Double.doubleToRawLongBits(actual.bpcVal()));
        assertEquals(expected.history().size(), actual.history().size());
        for (int i = 0; i < expected.history().size(); i++) {
            TrainResult.Point e = expected.history().get(i);
            TrainResult.Point a = actual.history().get(i);
            assertEquals(e.step(), a.step());
            assertEquals(e.trainBpc(), a.trainBpc(), 0.0, "train bpc at step " + i);
            assertEquals(e.sparsity(), a.sparsity(), 0.0, "sparsity at step " + i);
            assertEquals(e.bpcVal(), a.bpcVal(), 0.0, "held-out bpc at step " + i);
        }
        // The checkpoint of step 30 replaced the one of step 20.
        assertEquals(30, TrainingCheckpoint.read(file).completedSteps());
    }

    private static void assertModelsBitIdentical(Model expected, Model actual) {
        for (TensorSpec spec : expected.architecture().tensors()) {
            float[] e = expected.tensor(spec.name()).data();
            float[] a = actual.tensor(spec.name()).data();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), spec.name() + "[" + i + "]");
            }
            boolean[] keep = expected.mask(spec.name());
            if (keep == null) {
                assertNull(actual.mask(spec.name()), spec.name());
            } else {
                assertArrayEquals(keep, actual.mask(spec.name()), spec.name());
            }
        }
    }

    @Test
    void refusesACheckpointOfAnotherRunNamingResume() throws IOException {
        CharCorpus corpus = corpus();
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).seed(7).build();
        Path file = dir.resolve("run.resume");
        Model crashed = model(corpus, CellType.RNN);
        assertThrows(Crash.class, new Trainer(crashed, corpus, config, null, CRASHING).checkpointEvery(EVERY, file)::run);
        TrainingCheckpoint checkpoint = TrainingCheckpoint.read(file);

        TrainConfig otherSeed = config.toBuilder().seed(8).build();
        Model other = model(corpus, CellType.RNN);
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                new Trainer(other, corpus, otherSeed, null, null).resumeFrom(checkpoint)::run);
        assertEquals("--resume", e.option());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());

        // Another input model is another run too, even with the same settings.
        Model otherWeights = Model.initialize(crashed.architecture(), corpus.vocabulary(), 99);
        assertEquals("--resume", assertThrows(InvalidOptionException.class,
                new Trainer(otherWeights, corpus, config, null, null).resumeFrom(checkpoint)::run).option());
    }

    @Test
    void aCheckpointThatDoesNotFitTheModelIsABadFileAndChangesNothing() throws IOException {
        CharCorpus corpus = corpus();
        TrainConfig config = TrainConfig.builder().batch(4).seq(16).steps(STEPS).seed(7).build();
        Path file = dir.resolve("run.resume");
        Model input = model(corpus, CellType.LSTM);
        Model crashed = input.copy();
        assertThrows(Crash.class, new Trainer(crashed, corpus, config, null, CRASHING).checkpointEvery(EVERY, file)::run);

        // Same run fingerprint, but the Adam second moment lost its last value.
        SafetensorsFile good = SafetensorsFile.read(file);
        SafetensorsWriter damaged = new SafetensorsWriter().putMetadata(good.metadata());
        for (SafetensorsTensor t : good.tensors().values()) {
            if (t.dtype() == SafetensorsDType.U8) {
                byte[] bytes = new byte[t.elementCount()];
                t.data().get(bytes);
                damaged.addU8(t.name(), t.shape(), bytes);
            } else {
                float[] values = t.toFloats();
                if (t.name().equals(TrainingCheckpoint.OPTIMIZER_PREFIX + "adam.v")) {
                    values = Arrays.copyOf(values, values.length - 1);
                }
                damaged.addF32(t.name(), new int[] {values.length}, values);
            }
        }
        Path bad = dir.resolve("damaged.resume");
        damaged.write(bad);

        Model resumed = input.copy();
        BadFileException e = assertThrows(BadFileException.class,
                new Trainer(resumed, corpus, config, null, null).resumeFrom(TrainingCheckpoint.read(bad))::run);
        assertEquals(bad, e.file());
        assertTrue(e.getMessage().contains("adam.v"), e.getMessage());
        assertModelsBitIdentical(input, resumed);
    }

    @Test
    void rejectsFilesThatAreNotTrainingCheckpoints() throws IOException {
        Path model = dir.resolve("model.safetensors");
        new SafetensorsWriter().addF32("head.bias", new int[] {2}, new float[] {1, 2}).write(model);
        BadFileException notOne = assertThrows(BadFileException.class, () -> TrainingCheckpoint.read(model));
        assertEquals(model, notOne.file());
        assertTrue(notOne.getMessage().contains(TrainingCheckpoint.FORMAT), notOne.getMessage());

        Path garbage = dir.resolve("garbage.resume");
        Files.writeString(garbage, "not a safetensors file at all");
        assertEquals(garbage, assertThrows(BadFileException.class, () -> TrainingCheckpoint.read(garbage)).file());
        assertThrows(BadFileException.class, () -> TrainingCheckpoint.read(dir.resolve("missing.resume")));
    }

    @Test
    void checkpointSitsBesideTheOutput() {
        assertEquals(dir.resolve("m.safetensors.resume"), TrainingCheckpoint.besideOutput(dir.resolve("m.safetensors")));
    }

    @Test
    void skippingBatchesReadsTheSameTextAsDrawingThem() {
        int[] ids = new int[203];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        CharBatches drawing = new CharBatches(ids, 3, 7, false, 42);
        for (int i = 0; i < 23; i++) {
            drawing.next();
        }
        CharBatches skipping = new CharBatches(ids, 3, 7, false, 42);
        skipping.skip(23);
        assertEquals(23, skipping.drawn());
        for (int i = 0; i < 30; i++) {
            CharBatches.Batch e = drawing.next();
            CharBatches.Batch a = skipping.next();
            assertArrayEquals(e.inputs(), a.inputs(), "batch " + i);
            assertArrayEquals(e.targets(), a.targets(), "batch " + i);
            assertEquals(e.startsEpoch(), a.startsEpoch());
            assertEquals(e.epoch(), a.epoch());
        }
        assertEquals(drawing.drawn(), skipping.drawn());
    }
}
