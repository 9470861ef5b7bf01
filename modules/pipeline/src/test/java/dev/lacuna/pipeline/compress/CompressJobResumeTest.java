package dev.lacuna.pipeline.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.train.CentroidCheckpoint;
import dev.lacuna.train.TrainingCheckpoint;
import dev.lacuna.train.TrainingListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fine-tuning stages of a compress job resume (issue #8 item 4): a job interrupted in the middle of pruning, or
 * of trained quantization, and rerun with {@code resume} publishes the same bytes as a job never interrupted.
 */
class CompressJobResumeTest {
    private static final String[] WORDS = {"the whale", "a sailor", "sees", "hunts", "the ship.", "a storm."};
    private static final long STEPS = 30;
    private static final long EVERY = 10;
    /** The interrupted job dies at this step, after the checkpoint of step 20. */
    private static final long CRASH_AT = 24;

    @TempDir
    Path temp;
    Path data;
    Path model;

    /** Stands for a killed process: the job stops in the middle of the fine-tuning. */
    private static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash");
        }
    }

    /** Crashes at {@link #CRASH_AT} of the given fine-tuning stage (1 = pruning, 2 = trained quantization). */
    private static TrainingListener crashingInStage(int crashStage) {
        return new TrainingListener() {
            int stage;

            @Override
            public void onStart(long totalSteps) {
                stage++;
            }

            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                if (stage == crashStage && step == CRASH_AT) {
                    throw new Crash();
                }
            }
        };
    }

    /** Records the steps that each fine-tuning stage ran. */
    private static final class Steps implements TrainingListener {
        final List<List<Long>> stages = new ArrayList<>();

        @Override
        public void onStart(long totalSteps) {
            stages.add(new ArrayList<>());
        }

        @Override
        public void onStep(long step, double trainBpc, double sparsity) {
            stages.get(stages.size() - 1).add(step);
        }
    }

    @BeforeEach
    void tinyModelAndText() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        StringBuilder text = new StringBuilder();
        while (text.length() < 40_000) {
            text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        data = Files.writeString(temp.resolve("text.txt"), text, StandardCharsets.UTF_8);
        Vocabulary vocabulary = Vocabulary.of(text.toString());
        Model m = Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 4, 8, 1), vocabulary, 3);
        Files.createDirectories(temp.resolve("in"));
        model = temp.resolve("in").resolve("lstm.safetensors");
        ModelFiles.write(m, model);
    }

    private CompressSettings settings(PruningMethod method, long seed, Path out, long checkpointEvery,
                                      boolean resume) {
        return settings(method, seed, out, 0, checkpointEvery, resume);
    }

    private CompressSettings settings(PruningMethod method, long seed, Path out, long quantizationSteps,
                                      long checkpointEvery, boolean resume) {
        return new CompressSettings(model, method, 0.6, data, method.trains() ? STEPS : 0, seed, 4, true,
                Set.of(OutputFormat.LACUNA), out, quantizationSteps, checkpointEvery, resume);
    }

    @Test
    void anInterruptedPruningJobResumesToTheSameBytes() throws IOException {
        PruningMethod method = PruningMethod.GRADUAL;
        Path expectedDir = temp.resolve("uninterrupted");
        CompressResult expected = new CompressJob(settings(method, 1, expectedDir, 0, false), l -> { }).run();

        Path out = temp.resolve("resumed");
        CompressSettings checkpointing = settings(method, 1, out, EVERY, false);
        assertThrows(Crash.class, new CompressJob(checkpointing, l -> { }, crashingInStage(1))::run);
        Path checkpoint = checkpointing.pruneCheckpoint();
        assertEquals(20, TrainingCheckpoint.read(checkpoint).completedSteps());
        assertFalse(Files.exists(checkpointing.reportFile()), "an interrupted job publishes nothing");

        List<String> lines = new ArrayList<>();
        Steps steps = new Steps();
        CompressResult resumed = new CompressJob(settings(method, 1, out, EVERY, true), lines::add, steps).run();

        assertTrue(lines.contains("resuming from " + checkpoint + " after step 20"), lines.toString());
        assertEquals(1, steps.stages.size());
        assertEquals(20L, steps.stages.get(0).get(0), "the resumed job continues after the checkpoint's step");
        assertEquals(STEPS - 20, steps.stages.get(0).size());
        assertSamePublication(expected, resumed);
        assertFalse(Files.exists(checkpoint), "the published job's checkpoint is deleted");
    }

    /** Han's prune-retrain rounds, interrupted in the middle of the first round, resume through HanPruning. */
    @Test
    void anInterruptedHanJobResumesToTheSameBytes() throws IOException {
        Path expectedDir = temp.resolve("uninterrupted-han");
        CompressResult expected = new CompressJob(settings(PruningMethod.HAN, 1, expectedDir, 0, false), l -> { })
                .run();

        Path out = temp.resolve("resumed-han");
        CompressSettings checkpointing = settings(PruningMethod.HAN, 1, out, EVERY, false);
        assertThrows(Crash.class, new CompressJob(checkpointing, l -> { }, crashingInStage(1))::run);
        assertTrue(Files.exists(checkpointing.pruneCheckpoint()), "the first round checkpointed");

        Steps steps = new Steps();
        CompressResult resumed = new CompressJob(settings(PruningMethod.HAN, 1, out, EVERY, true), l -> { }, steps)
                .run();

        assertEquals(20L, steps.stages.get(0).get(0), "the resumed round continues after the checkpoint's step");
        assertEquals(CompressSettings.HAN_ROUNDS, steps.stages.size());
        assertSamePublication(expected, resumed);
        assertFalse(Files.exists(checkpointing.pruneCheckpoint()), "the published job's checkpoint is deleted");
    }

    /**
     * Pruning (agp) and trained quantization, interrupted once in each stage: the second run resumes the pruning
     * and keeps its result, the third skips the pruning and resumes the quantization.
     */
    @Test
    void aJobInterruptedInEachStageResumesToTheSameBytes() throws IOException {
        PruningMethod method = PruningMethod.AGP;
        CompressResult expected = new CompressJob(settings(method, 1, temp.resolve("uninterrupted"), STEPS, 0,
                false), l -> { }).run();

        Path out = temp.resolve("resumed");
        CompressSettings first = settings(method, 1, out, STEPS, EVERY, false);
        assertThrows(Crash.class, new CompressJob(first, l -> { }, crashingInStage(1))::run);
        assertEquals(20, TrainingCheckpoint.read(first.pruneCheckpoint()).completedSteps());
        assertFalse(Files.exists(first.prunedCheckpoint()));

        CompressSettings resuming = settings(method, 1, out, STEPS, EVERY, true);
        assertThrows(Crash.class, new CompressJob(resuming, l -> { }, crashingInStage(2))::run);
        assertTrue(Files.exists(first.prunedCheckpoint()), "the finished pruning stage's model is kept");
        assertFalse(Files.exists(first.pruneCheckpoint()), "and its step checkpoint is no longer needed");
        assertEquals(20, CentroidCheckpoint.read(first.quantizeCheckpoint()).completedSteps());

        InvalidOptionException other = assertThrows(InvalidOptionException.class,
                new CompressJob(settings(method, 2, out, STEPS, EVERY, true), l -> { })::run);
        assertEquals("resume", other.option());
        assertTrue(other.getMessage().contains(first.prunedCheckpoint().toString()), other.getMessage());

        List<String> lines = new ArrayList<>();
        Steps steps = new Steps();
        CompressResult resumed = new CompressJob(resuming, lines::add, steps).run();

        assertTrue(lines.contains("the pruning stage had finished: restored the pruned model from "
                + first.prunedCheckpoint()), lines.toString());
        assertTrue(lines.contains("resuming from " + first.quantizeCheckpoint() + " after step 20"), lines.toString());
        assertEquals(1, steps.stages.size(), "only the quantization stage ran");
        assertEquals(20L, steps.stages.get(0).get(0));
        assertSamePublication(expected, resumed);
        String record = LacunaFormat.read(out.resolve("lstm.lacuna")).metadata().get(TrainedQuantization.METADATA_KEY);
        assertTrue(record != null && record.startsWith("{\"steps\":30,"), "trained quantization ran: " + record);
        for (Path checkpoint : List.of(first.pruneCheckpoint(), first.prunedCheckpoint(),
                first.quantizeCheckpoint())) {
            assertFalse(Files.exists(checkpoint), checkpoint + " should be deleted once the job is published");
        }
    }

    private static void assertSamePublication(CompressResult expected, CompressResult resumed) throws IOException {
        Path expectedLacuna = expected.reportFile().resolveSibling(expected.report().output(OutputFormat.LACUNA)
                .file());
        Path resumedLacuna = resumed.reportFile().resolveSibling(resumed.report().output(OutputFormat.LACUNA).file());
        assertArrayEquals(Files.readAllBytes(expectedLacuna), Files.readAllBytes(resumedLacuna),
                "resumed output differs");
        assertEquals(expected.report().bpcAfter(), resumed.report().bpcAfter());
        assertArrayEquals(Files.readAllBytes(expected.reportFile()), Files.readAllBytes(resumed.reportFile()),
                "the report has no paths of the output directory and no timings, so it is the same too");
    }

    @Test
    void refusesTheCheckpointOfAnotherRun() {
        Path out = temp.resolve("out");
        CompressSettings seedOne = settings(PruningMethod.GRADUAL, 1, out, EVERY, false);
        assertThrows(Crash.class, new CompressJob(seedOne, l -> { }, crashingInStage(1))::run);
        assertTrue(Files.exists(seedOne.pruneCheckpoint()));

        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                new CompressJob(settings(PruningMethod.GRADUAL, 2, out, EVERY, true), l -> { })::run);
        assertEquals("resume", e.option());
        assertTrue(e.getMessage().contains(seedOne.pruneCheckpoint().toString()), e.getMessage());
        assertTrue(Files.exists(seedOne.pruneCheckpoint()), "a refused checkpoint is left alone");
    }

    @Test
    void resumeWithoutACheckpointStartsFromStepZero() throws IOException {
        Path expectedDir = temp.resolve("plain");
        CompressResult expected = new CompressJob(settings(PruningMethod.ONESHOT, 3, expectedDir, 10, 0, false),
                l -> { }).run();
        Path out = temp.resolve("fresh");
        List<String> lines = new ArrayList<>();
        CompressResult fresh = new CompressJob(settings(PruningMethod.ONESHOT, 3, out, 10, 0, true), lines::add)
                .run();
        assertTrue(lines.stream().anyMatch(l -> l.contains("no checkpoint " + settings(PruningMethod.ONESHOT, 3, out, 10, 0,
                true).quantizeCheckpoint())), lines.toString());
        assertArrayEquals(Files.readAllBytes(expected.reportFile()), Files.readAllBytes(fresh.reportFile()));
    }

    @Test
    void rejectsResumeWhereItCannotApply() {
        Path out = temp.resolve("x");
        assertEquals("resume", assertThrows(InvalidOptionException.class, () -> new CompressSettings(model,
                PruningMethod.ONESHOT, 0.5, null, 0, 1, 0, false, Set.of(OutputFormat.LACUNA), out, 0, 0, true))
                .option());
        assertEquals("quantizationSteps", assertThrows(InvalidOptionException.class, () -> new CompressSettings(
                model, PruningMethod.ONESHOT, 0.5, data, 0, 1, 0, false, Set.of(OutputFormat.LACUNA), out, 5, 0,
                false)).option());
        assertEquals("quantizationSteps", assertThrows(InvalidOptionException.class, () -> new CompressSettings(
                model, PruningMethod.ONESHOT, 0.5, data, 0, 1, 4, false, Set.of(OutputFormat.ONNX), out, 5, 0,
                false)).option());
        assertEquals("checkpointEvery", assertThrows(InvalidOptionException.class,
                () -> settings(PruningMethod.GRADUAL, 1, out, -1, false)).option());
    }
}
