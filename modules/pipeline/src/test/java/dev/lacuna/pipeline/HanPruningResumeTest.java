package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import dev.lacuna.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Han's prune-retrain rounds interrupted through the API and resumed from their one checkpoint file end bit-identical
 * to an uninterrupted run, whether the interruption falls inside a round or between rounds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HanPruningResumeTest {
    private static final int ROUNDS = 3;
    private static final int ROUND_STEPS = 20;
    private static final int EVERY = 5;

    Model dense;
    CharCorpus corpus;
    Map<String, Double> quality;
    TrainConfig roundConfig;
    Model reference;
    TrainResult referenceResult;

    @TempDir
    Path dir;

    @BeforeAll
    void uninterrupted(@TempDir Path shared) throws Exception {
        Path text = Tiny.text(shared, 300);
        dense = Tiny.trainedGru(text);
        corpus = CharCorpus.load(text, dense.vocabulary());
        quality = HanPruning.uniformQuality(dense, 0.7, false);
        roundConfig = Tiny.config(ROUND_STEPS).evalEvery(7).build();
        reference = dense.copy();
        referenceResult = HanPruning.run(reference, dense, corpus, roundConfig, quality, ROUNDS,
                round -> TrainingListener.NONE);
    }

    /** Thrown by a listener to stop a run the way a kill would: nothing after it runs. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted by the test");
        }
    }

    private static IntFunction<TrainingListener> stopAt(int stopRound, long stopStep) {
        return round -> new TrainingListener() {
            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                if (round == stopRound && step == stopStep) {
                    throw new Interrupted();
                }
            }
        };
    }

    @Test
    void interruptedWithinRoundTwoResumesToTheSameModel() {
        assertResumesIdentically(2, 12, 1, EVERY * 2);
    }

    @Test
    void interruptedBetweenRoundsRedoesThePreviousRoundsTail() {
        // Round 2 stops before its first checkpoint: the file still holds round 1's last one (after step 15).
        assertResumesIdentically(2, EVERY - 2, 0, ROUND_STEPS - EVERY);
    }

    private void assertResumesIdentically(int stopRound, long stopStep, int checkpointStage, long checkpointStep) {
        Path file = dir.resolve("han.resume");
        Model interrupted = dense.copy();
        assertThrows(Interrupted.class, () -> HanPruning.run(interrupted, dense, corpus, roundConfig, quality, ROUNDS,
                stopAt(stopRound, stopStep), file, new Checkpoints(EVERY, false)));
        assertTrue(Files.exists(file));
        TrainingCheckpoint saved = TrainingCheckpoint.read(file);
        assertEquals(checkpointStep, saved.completedSteps());

        Model resumed = dense.copy();
        List<String> seen = new ArrayList<>();
        TrainResult result = HanPruning.run(resumed, dense, corpus, roundConfig, quality, ROUNDS,
                round -> new TrainingListener() {
                    @Override
                    public void onStep(long step, double trainBpc, double sparsity) {
                        seen.add(round + ":" + step);
                    }
                }, file, new Checkpoints(EVERY, true));
        // It really continued: the first step it ran is the one after the checkpoint, in the checkpoint's round.
        assertEquals((checkpointStage + 1) + ":" + checkpointStep, seen.get(0));

        for (TensorSpec spec : dense.architecture().tensors()) {
            assertArrayEquals(reference.tensor(spec.name()).data(), resumed.tensor(spec.name()).data(), spec.name());
            assertArrayEquals(reference.mask(spec.name()), resumed.mask(spec.name()), spec.name());
        }
        assertEquals(referenceResult.steps(), result.steps());
        assertEquals(referenceResult.bpcVal(), result.bpcVal());
        assertEquals(withoutTimes(referenceResult.history()), withoutTimes(result.history()));
    }

    private static List<String> withoutTimes(List<TrainResult.Point> history) {
        return history.stream().map(p -> p.step() + " " + p.trainBpc() + " " + p.sparsity() + " " + p.bpcVal())
                .toList();
    }

    @Test
    void aCheckpointMissingTheFinishedRoundsIsABadFile() {
        Path file = dir.resolve("damaged.resume");
        assertThrows(Interrupted.class, () -> HanPruning.run(dense.copy(), dense, corpus, roundConfig, quality,
                ROUNDS, stopAt(2, 7), file, new Checkpoints(EVERY, false)));
        // The same run's metadata, so the fingerprint passes, but without the rounds' tensors.
        Map<String, String> metadata = SafetensorsFile.read(file).metadata();
        TrainingCheckpoint.read(file).write(file, writer -> metadata.forEach((key, value) -> {
            if (key.startsWith("lacuna.stages.")) {
                writer.putMetadata(key, value);
            }
        }));
        BadFileException e = assertThrows(BadFileException.class, () -> HanPruning.run(dense.copy(), dense, corpus,
                roundConfig, quality, ROUNDS, round -> TrainingListener.NONE, file, new Checkpoints(EVERY, true)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void refusesACheckpointOfAnotherRun() {
        Path file = dir.resolve("other.resume");
        assertThrows(Interrupted.class, () -> HanPruning.run(dense.copy(), dense, corpus, roundConfig, quality,
                ROUNDS, stopAt(2, 7), file, new Checkpoints(EVERY, false)));
        // Another number of rounds changes every round's threshold: not the same run.
        InvalidOptionException rounds = assertThrows(InvalidOptionException.class, () -> HanPruning.run(
                dense.copy(), dense, corpus, roundConfig, quality, ROUNDS + 1, round -> TrainingListener.NONE, file,
                new Checkpoints(EVERY, true)));
        assertEquals("--resume", rounds.option());

        // A single training's checkpoint (no rounds recorded) is not Han's either.
        Path single = dir.resolve("single.resume");
        TrainingListener stop = new TrainingListener() {
            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                if (step == 7) {
                    throw new Interrupted();
                }
            }
        };
        assertThrows(Interrupted.class, new Trainer(dense.copy(), corpus, roundConfig, null, stop)
                .checkpointEvery(EVERY, single)::run);
        InvalidOptionException foreign = assertThrows(InvalidOptionException.class, () -> HanPruning.run(
                dense.copy(), dense, corpus, roundConfig, quality, ROUNDS, round -> TrainingListener.NONE, single,
                new Checkpoints(EVERY, true)));
        assertEquals("--resume", foreign.option());
    }
}
